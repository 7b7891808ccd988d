package android.app;

import android.content.Context;
import android.content.Intent;

public class Activity extends Context {
    @Override
    public void startActivity(Intent intent) { throw new RuntimeException("Stub!"); }
    @Override
    public String getPackageName() { throw new RuntimeException("Stub!"); }
    public boolean isFinishing() { throw new RuntimeException("Stub!"); }
}
