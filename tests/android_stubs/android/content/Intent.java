package android.content;

import android.net.Uri;

import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * android.content.Intent with the fields the generated code reads, and parseUri following AOSP's
 * grammar for URI_INTENT_SCHEME: {@code intent:DATA#Intent;key=value;...;end}, split at the LAST
 * '#', values Uri-decoded, "scheme=" prepended to DATA, "S." string extras, "SEL" selectors.
 */
public class Intent {
    public static final String ACTION_MAIN = "android.intent.action.MAIN";
    public static final String ACTION_VIEW = "android.intent.action.VIEW";
    public static final String CATEGORY_BROWSABLE = "android.intent.category.BROWSABLE";
    public static final int URI_INTENT_SCHEME = 1;

    private String action;
    private Uri data;
    private String type;
    private String packageName;
    private ComponentName component;
    private Intent selector;
    private Set<String> categories;
    private final Map<String, Object> extras = new HashMap<>();

    public Intent() {
    }

    public Intent(String action) {
        this.action = action;
    }

    public Intent(String action, Uri uri) {
        this.action = action;
        this.data = uri;
    }

    public static Intent parseUri(String uri, int flags) throws URISyntaxException {
        if ((flags & URI_INTENT_SCHEME) != 0 && !uri.startsWith("intent:")) {
            return new Intent(ACTION_VIEW, Uri.parse(uri));
        }
        int i = uri.lastIndexOf('#');
        if (i < 0 || !uri.startsWith("#Intent;", i)) {
            // No "#Intent;" part (the pre-2009 "#action(...)" form is not modelled here).
            return new Intent(ACTION_VIEW, Uri.parse(uri));
        }
        Intent intent = new Intent(ACTION_VIEW);
        Intent baseIntent = intent;
        boolean inSelector = false;
        String scheme = null;
        String data = uri.substring(0, i);
        i += "#Intent;".length();
        try {
            while (!uri.startsWith("end", i)) {
                int eq = uri.indexOf('=', i);
                if (eq < 0) {
                    eq = i - 1;
                }
                int semi = uri.indexOf(';', i);
                if (semi < 0) {
                    throw new URISyntaxException(uri, "illegal Intent URI format", i);
                }
                String value = eq < semi ? Uri.decode(uri.substring(eq + 1, semi)) : "";
                if (uri.startsWith("action=", i)) {
                    intent.setAction(value);
                } else if (uri.startsWith("category=", i)) {
                    intent.addCategory(value);
                } else if (uri.startsWith("type=", i)) {
                    intent.type = value;
                } else if (uri.startsWith("package=", i)) {
                    intent.packageName = value;
                } else if (uri.startsWith("component=", i)) {
                    intent.component = ComponentName.unflattenFromString(value);
                } else if (uri.startsWith("scheme=", i)) {
                    if (inSelector) {
                        intent.data = Uri.parse(value + ":");
                    } else {
                        scheme = value;
                    }
                } else if (semi == i + 3 && uri.startsWith("SEL", i)) {
                    intent = new Intent();
                    inSelector = true;
                } else if (uri.startsWith("launchFlags=", i) || uri.startsWith("sourceBounds=", i)
                        || uri.startsWith("identifier=", i)) {
                    // Parsed by Android, irrelevant to which activity starts.
                } else {
                    String key = Uri.decode(uri.substring(i + 2, eq));
                    char kind = uri.charAt(i);
                    if (uri.charAt(i + 1) != '.' || "SBbcdfils".indexOf(kind) < 0) {
                        throw new URISyntaxException(uri, "unknown EXTRA type", i);
                    }
                    intent.extras.put(key, kind == 'S' ? value : (Object) ("" + kind + value));
                }
                i = semi + 1;
            }
        } catch (IndexOutOfBoundsException e) {
            throw new URISyntaxException(uri, "illegal Intent URI format", i);
        }
        if (inSelector) {
            if (baseIntent.packageName == null) {
                baseIntent.setSelector(intent);
            }
            intent = baseIntent;
        }
        if (data.startsWith("intent:")) {
            data = data.substring("intent:".length());
            if (scheme != null) {
                data = scheme + ':' + data;
            }
        }
        if (data.length() > 0) {
            intent.data = Uri.parse(data);
        }
        return intent;
    }

    public String getAction() {
        return action;
    }

    public Intent setAction(String action) {
        this.action = action;
        return this;
    }

    public Uri getData() {
        return data;
    }

    public Intent setData(Uri data) {
        this.data = data;
        this.type = null;
        return this;
    }

    public Intent setDataAndType(Uri data, String type) {
        this.data = data;
        this.type = type;
        return this;
    }

    public String getType() {
        return type;
    }

    public String getScheme() {
        return data == null ? null : data.getScheme();
    }

    public Intent addCategory(String category) {
        if (categories == null) {
            categories = new LinkedHashSet<>();
        }
        categories.add(category);
        return this;
    }

    public boolean hasCategory(String category) {
        return categories != null && categories.contains(category);
    }

    public Set<String> getCategories() {
        return categories;
    }

    public Intent setComponent(ComponentName component) {
        this.component = component;
        return this;
    }

    public ComponentName getComponent() {
        return component;
    }

    public void setSelector(Intent selector) {
        this.selector = selector;
    }

    public Intent getSelector() {
        return selector;
    }

    public String getPackage() {
        return packageName;
    }

    public Intent setPackage(String packageName) {
        this.packageName = packageName;
        return this;
    }

    public String getStringExtra(String name) {
        Object value = extras.get(name);
        return value instanceof String ? (String) value : null;
    }
}
