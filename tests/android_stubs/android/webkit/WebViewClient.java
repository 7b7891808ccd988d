package android.webkit;

public class WebViewClient {
    public WebViewClient() { }
    @Deprecated
    public boolean shouldOverrideUrlLoading(WebView view, String url) { throw new RuntimeException("Stub!"); }
    public boolean shouldOverrideUrlLoading(WebView view, WebResourceRequest request) { throw new RuntimeException("Stub!"); }
}
