package android.app;

import android.content.Context;
import android.content.DialogInterface;
import android.view.View;
import android.view.Window;

public class Dialog implements DialogInterface {
    public Dialog(Context context) { throw new RuntimeException("Stub!"); }
    public void setContentView(View view) { throw new RuntimeException("Stub!"); }
    public void setOnDismissListener(DialogInterface.OnDismissListener listener) { throw new RuntimeException("Stub!"); }
    public void show() { throw new RuntimeException("Stub!"); }
    public Window getWindow() { throw new RuntimeException("Stub!"); }
    @Override
    public void cancel() { throw new RuntimeException("Stub!"); }
    @Override
    public void dismiss() { throw new RuntimeException("Stub!"); }
}
