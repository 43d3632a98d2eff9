package io.linkbase.devstack.bench;

/**
 * The generated target records of the link and bulk benchmarks: one name generator, so the
 * real path and every floor index the very same documents.
 */
public final class Names {
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "be", "yo",
        "rö", "dé", "an", "el", "or", "ün", "is", "ma", "ti", "co"};

    private Names() {
    }

    /** The i-th target record's name: two generated words and its number (unique). */
    public static String target(int i) {
        StringBuilder s = new StringBuilder();
        long x = i * 7919L + 13; // long: an int overflowed (negative index) past 271,000 records
        for (int w = 0; w < 2; w++) {
            for (int k = 0; k < 2 + (x & 1); k++) {
                s.append(SYLLABLES[(int) (x % SYLLABLES.length)]);
                x /= 3;
            }
            s.append(' ');
        }
        return s.append(i).toString();
    }
}
