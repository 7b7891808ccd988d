package android.net;

public abstract class Uri implements Comparable<Uri> {
    public static Uri parse(String uriString) { throw new RuntimeException("Stub!"); }
    public abstract String getScheme();
    public abstract String getHost();
    public abstract String getPath();
    public static String encode(String s) { throw new RuntimeException("Stub!"); }
    public String getQueryParameter(String key) { throw new RuntimeException("Stub!"); }
    public abstract String toString();
}
