package android.os;

public final class Message {
    public Object obj;
    public void sendToTarget() { throw new RuntimeException("Stub!"); }
}
