package android.content;

import android.net.Uri;

public class Intent {
    public static final String ACTION_VIEW = "android.intent.action.VIEW";
    public static final String CATEGORY_BROWSABLE = "android.intent.category.BROWSABLE";
    public static final int URI_INTENT_SCHEME = 1;

    public Intent(String action, Uri uri) { throw new RuntimeException("Stub!"); }
    public static Intent parseUri(String uri, int flags) throws java.net.URISyntaxException { throw new RuntimeException("Stub!"); }
    public Intent addCategory(String category) { throw new RuntimeException("Stub!"); }
    public Intent setComponent(ComponentName component) { throw new RuntimeException("Stub!"); }
    public ComponentName getComponent() { throw new RuntimeException("Stub!"); }
    public void setSelector(Intent selector) { throw new RuntimeException("Stub!"); }
    public Intent getSelector() { throw new RuntimeException("Stub!"); }
    public String getPackage() { throw new RuntimeException("Stub!"); }
    public String getScheme() { throw new RuntimeException("Stub!"); }
    public String getStringExtra(String name) { throw new RuntimeException("Stub!"); }
}
