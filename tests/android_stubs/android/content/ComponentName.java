package android.content;

public final class ComponentName {
    private final String pkg;
    private final String cls;

    public ComponentName(String pkg, String cls) {
        this.pkg = pkg;
        this.cls = cls;
    }

    public static ComponentName unflattenFromString(String str) {
        int sep = str.indexOf('/');
        if (sep < 0 || sep + 1 >= str.length()) {
            return null;
        }
        String pkg = str.substring(0, sep);
        String cls = str.substring(sep + 1);
        return new ComponentName(pkg, cls.startsWith(".") ? pkg + cls : cls);
    }

    public String getPackageName() {
        return pkg;
    }

    public String getClassName() {
        return cls;
    }
}
