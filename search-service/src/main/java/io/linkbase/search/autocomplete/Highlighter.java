package io.linkbase.search.autocomplete;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Marks the matched word prefixes of a summary with {@code <em>…</em>}, case- and
 * accent-insensitively like the index's analyzers (lowercase + ASCII folding), on the original
 * text. Done here rather than by OpenSearch because an edge n-gram field highlights whole words,
 * and because it costs nothing on at most 50 short strings. The rest is HTML-escaped.
 */
final class Highlighter {
    private static final String[] ASCII = new String[128];

    static {
        for (char c = 0; c < 128; c++) {
            ASCII[c] = String.valueOf(Character.toLowerCase(c));
        }
    }

    private Highlighter() {
    }

    /** The words of a query, folded. */
    public static List<String> words(String q) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        for (int i = 0; i < q.length(); i++) {
            char ch = q.charAt(i);
            if (Character.isLetterOrDigit(ch)) {
                w.append(fold(ch));
            } else if (w.length() > 0) {
                words.add(w.toString());
                w.setLength(0);
            }
        }
        if (w.length() > 0) {
            words.add(w.toString());
        }
        return words;
    }

    public static String highlight(String summary, List<String> words) {
        StringBuilder out = new StringBuilder(summary.length() + 16);
        int i = 0;
        while (i < summary.length()) {
            char ch = summary.charAt(i);
            if (!Character.isLetterOrDigit(ch)) {
                escape(out, ch);
                i++;
                continue;
            }
            int end = i;
            while (end < summary.length() && Character.isLetterOrDigit(summary.charAt(end))) {
                end++;
            }
            int marked = matchedChars(summary, i, end, words);
            if (marked > 0) {
                out.append("<em>");
                escape(out, summary, i, i + marked);
                out.append("</em>");
            }
            escape(out, summary, i + marked, end);
            i = end;
        }
        return out.toString();
    }

    /** How many characters of the word [from, to) the longest matching query word covers. */
    private static int matchedChars(String s, int from, int to, List<String> words) {
        StringBuilder folded = new StringBuilder();
        int[] endOf = new int[to - from]; // folded length after each original char
        for (int k = from; k < to; k++) {
            folded.append(fold(s.charAt(k)));
            endOf[k - from] = folded.length();
        }
        int best = 0;
        for (String w : words) {
            if (w.length() > best && folded.length() >= w.length() && folded.indexOf(w) == 0) {
                best = w.length();
            }
        }
        if (best == 0) {
            return 0;
        }
        for (int k = 0; k < endOf.length; k++) {
            if (endOf[k] >= best) {
                return k + 1;
            }
        }
        return to - from;
    }

    /** A whole string folded the same way (words joined by single spaces). */
    public static String fold(String s) {
        return String.join(" ", words(s));
    }

    static String fold(char ch) {
        if (ch < 128) { // the common case, without a Normalizer round trip
            return ASCII[ch];
        }
        switch (Character.toLowerCase(ch)) {
            case 'ß':
                return "ss";
            case 'æ':
                return "ae";
            case 'œ':
                return "oe";
            case 'ø':
                return "o";
            case 'ł':
                return "l";
            case 'đ':
                return "d";
            case 'þ':
                return "th";
            default:
                break;
        }
        String d = Normalizer.normalize(String.valueOf(ch), Normalizer.Form.NFD);
        StringBuilder b = new StringBuilder(1);
        for (int i = 0; i < d.length(); i++) {
            char c = d.charAt(i);
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                b.append(c);
            }
        }
        return b.toString().toLowerCase(Locale.ROOT);
    }

    private static void escape(StringBuilder out, String s, int from, int to) {
        for (int k = from; k < to; k++) {
            escape(out, s.charAt(k));
        }
    }

    private static void escape(StringBuilder out, char ch) {
        switch (ch) {
            case '<' -> out.append("&lt;");
            case '>' -> out.append("&gt;");
            case '&' -> out.append("&amp;");
            case '"' -> out.append("&quot;");
            default -> out.append(ch);
        }
    }
}
