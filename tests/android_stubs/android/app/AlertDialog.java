package android.app;

import android.content.Context;
import android.content.DialogInterface;

public class AlertDialog extends Dialog {
    protected AlertDialog(Context context) { super(context); }

    public static class Builder {
        public Builder(Context context) { throw new RuntimeException("Stub!"); }
        public Builder setMessage(CharSequence message) { throw new RuntimeException("Stub!"); }
        public Builder setCancelable(boolean cancelable) { throw new RuntimeException("Stub!"); }
        public Builder setPositiveButton(int textId, DialogInterface.OnClickListener listener) { throw new RuntimeException("Stub!"); }
        public Builder setNegativeButton(int textId, DialogInterface.OnClickListener listener) { throw new RuntimeException("Stub!"); }
        public Builder setOnCancelListener(DialogInterface.OnCancelListener listener) { throw new RuntimeException("Stub!"); }
        public AlertDialog show() { throw new RuntimeException("Stub!"); }
    }
}
