package io.linkbase.kit.outbox;

import java.util.Arrays;

/**
 * A PostgreSQL snapshot as {@code pg_current_snapshot()::text} prints it:
 * {@code xmin:xmax:xip,xip,...}. Every xid below {@code xmin} is complete, every xid at or above
 * {@code xmax} counts as in progress, and between the two exactly those in {@code xip} are.
 */
record PgSnapshot(long xmin, long xmax, long[] xip) {

    static PgSnapshot parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a snapshot: " + text);
        }
        long[] xip = parts[2].isEmpty() ? new long[0]
            : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).sorted().toArray();
        return new PgSnapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /** Whether {@code xid} had committed or aborted when this snapshot was taken. */
    boolean completed(long xid) {
        if (xid < xmin) {
            return true;
        }
        if (xid >= xmax) {
            return false;
        }
        return Arrays.binarySearch(xip, xid) < 0;
    }

    @Override
    public String toString() {
        return xmin + ":" + xmax + ":" + Arrays.toString(xip);
    }
}
