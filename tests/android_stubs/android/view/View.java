package android.view;

import android.content.Context;

public class View {
    public View(Context context) { throw new RuntimeException("Stub!"); }
    public final Context getContext() { throw new RuntimeException("Stub!"); }
}
