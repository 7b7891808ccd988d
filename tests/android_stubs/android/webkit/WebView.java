package android.webkit;

import android.content.Context;
import android.view.ViewGroup;

public class WebView extends ViewGroup {
    public WebView(Context context) { super(context); }
    public WebSettings getSettings() { throw new RuntimeException("Stub!"); }
    public void setWebViewClient(WebViewClient client) { throw new RuntimeException("Stub!"); }
    public void setWebChromeClient(WebChromeClient client) { throw new RuntimeException("Stub!"); }
    public void loadUrl(String url) { throw new RuntimeException("Stub!"); }
    public void destroy() { throw new RuntimeException("Stub!"); }

    public class WebViewTransport {
        public WebViewTransport() { throw new RuntimeException("Stub!"); }
        public synchronized void setWebView(WebView webview) { throw new RuntimeException("Stub!"); }
        public synchronized WebView getWebView() { throw new RuntimeException("Stub!"); }
    }
}
