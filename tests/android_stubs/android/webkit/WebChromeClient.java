package android.webkit;

import android.os.Message;

public class WebChromeClient {
    public WebChromeClient() { }
    public boolean onCreateWindow(WebView view, boolean isDialog, boolean isUserGesture, Message resultMsg) { throw new RuntimeException("Stub!"); }
    public void onCloseWindow(WebView window) { throw new RuntimeException("Stub!"); }
    public boolean onJsAlert(WebView view, String url, String message, JsResult result) { throw new RuntimeException("Stub!"); }
    public boolean onJsConfirm(WebView view, String url, String message, JsResult result) { throw new RuntimeException("Stub!"); }
}
