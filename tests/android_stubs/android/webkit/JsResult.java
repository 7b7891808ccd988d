package android.webkit;

public class JsResult {
    public final void cancel() { throw new RuntimeException("Stub!"); }
    public final void confirm() { throw new RuntimeException("Stub!"); }
}
