"""webview-toolkit: KISPG checkout inside hybrid apps and Korean in-app browsers."""

__version__ = "0.1.0"
