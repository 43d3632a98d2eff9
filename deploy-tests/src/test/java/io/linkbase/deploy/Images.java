package io.linkbase.deploy;

import java.util.regex.Pattern;

/** What "pinned" means for an image reference: a digest, or a tag that names a version. */
final class Images {
    private static final Pattern DIGEST = Pattern.compile(".+@sha256:[0-9a-f]{64}");
    private static final Pattern VERSION = Pattern.compile(".*\\d+\\.\\d+.*");

    private Images() {
    }

    static boolean isPinned(String image) {
        if (image == null || image.isBlank() || image.contains("${")) {
            return false;
        }
        if (DIGEST.matcher(image).matches()) {
            return true;
        }
        String lastSegment = image.substring(image.lastIndexOf('/') + 1);
        int colon = lastSegment.indexOf(':');
        if (colon < 0) {
            return false; // no tag means :latest
        }
        String tag = lastSegment.substring(colon + 1);
        // An exact version has at least major.minor; floating names (latest, 17-jre, 15,
        // stable) move under you.
        return !tag.toLowerCase().contains("latest") && VERSION.matcher(tag).matches();
    }
}
