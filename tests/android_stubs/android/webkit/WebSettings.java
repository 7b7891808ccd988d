package android.webkit;

public abstract class WebSettings {
    public static final int LOAD_DEFAULT = -1;
    public static final int LOAD_CACHE_ELSE_NETWORK = 1;
    public static final int LOAD_NO_CACHE = 2;
    public static final int MIXED_CONTENT_ALWAYS_ALLOW = 0;
    public static final int MIXED_CONTENT_NEVER_ALLOW = 1;
    public static final int MIXED_CONTENT_COMPATIBILITY_MODE = 2;

    public abstract void setJavaScriptEnabled(boolean flag);
    public abstract boolean getJavaScriptEnabled();
    public abstract void setDomStorageEnabled(boolean flag);
    public abstract boolean getDomStorageEnabled();
    public abstract void setJavaScriptCanOpenWindowsAutomatically(boolean flag);
    public abstract boolean getJavaScriptCanOpenWindowsAutomatically();
    public abstract void setSupportMultipleWindows(boolean support);
    public abstract boolean supportMultipleWindows();
    public abstract void setCacheMode(int mode);
    public abstract int getCacheMode();
    public abstract String getUserAgentString();
    public abstract void setUserAgentString(String ua);
    public abstract void setMixedContentMode(int mode);
    public abstract int getMixedContentMode();
}
