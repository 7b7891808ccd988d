package android.view;

public abstract class Window {
    public void setLayout(int width, int height) { throw new RuntimeException("Stub!"); }
}
