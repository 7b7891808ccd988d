package android.os;

public class FileUriExposedException extends RuntimeException {
    public FileUriExposedException(String message) {
        super(message);
    }
}
