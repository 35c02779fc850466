"""Real-browser tests; a package, so that their Chromium closes when the last of them is done."""
