package io.linkbase.kit.outbox;

import io.linkbase.kit.events.Topics;

/**
 * The relay's two lanes. Bulk topics ({@code *.bulk.*}, e.g. {@link Topics#RECORDS_BULK}) are
 * published only after every waiting interactive row, one bulk batch at a time. The lane of a row
 * is the generated column {@code outbox.lane} (V0_2), derived from its topic.
 */
public enum Lane {
    INTERACTIVE(0, "interactive"),
    BULK(1, "bulk");

    final int code;
    final String tag;

    Lane(int code, String tag) {
        this.code = code;
        this.tag = tag;
    }

    /** The metric tag value ({@code lane="interactive"} / {@code lane="bulk"}). */
    public String tag() {
        return tag;
    }

    /** The same rule as the generated column: {@code topic LIKE '%.bulk.%'}. */
    public static Lane of(String topic) {
        return topic.contains(".bulk.") ? BULK : INTERACTIVE;
    }
}
