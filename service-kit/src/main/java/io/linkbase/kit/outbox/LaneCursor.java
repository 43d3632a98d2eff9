package io.linkbase.kit.outbox;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * The read position of one lane: a keyset cursor plus the transactions that may still commit
 * rows below it (late committers). Immutable; the relay replaces it after each committed batch.
 *
 * <p>Invariant: every outbox row of this lane with {@code id <= cursor} that is not yet deleted
 * and whose transaction commits (or has committed) was written by a transaction in
 * {@code watched}. It holds because ids are taken after the writer's xid (V0_2) and in the order
 * they are handed out (sequence cache 1): when a read with snapshot S returned a committed row
 * {@code j}, any row {@code i < j} got its id before {@code j}'s transaction committed, i.e.
 * before S, so its transaction had its xid before S: it is either complete in S (then the row
 * was visible and read, or its transaction aborted) or in S's in-progress list, or at/above S's
 * xmax and below {@code bound}, an xid the relay took after S. Deleting rows (publishing them,
 * parking them, another instance doing either) never breaks it, so a stale cursor stays correct.
 */
final class LaneCursor {
    /** Beyond this many xids between a snapshot's xmax and the relay's own xid, something is odd. */
    static final long MAX_WATCH_RANGE = 1_000_000;

    final Lane lane;
    final long cursor;
    final Set<Long> watched;

    LaneCursor(Lane lane, long cursor, Set<Long> watched) {
        this.lane = lane;
        this.cursor = cursor;
        this.watched = Set.copyOf(watched);
    }

    static LaneCursor start(Lane lane) {
        return new LaneCursor(lane, 0, Set.of());
    }

    /** The watched transactions that were complete in {@code snapshot}: their rows are all visible after it. */
    Set<Long> completedIn(PgSnapshot snapshot) {
        Set<Long> done = new HashSet<>();
        for (long xid : watched) {
            if (snapshot.completed(xid)) {
                done.add(xid);
            }
        }
        return done;
    }

    /**
     * The position after a batch: {@code drained} watched transactions (all their rows below the
     * cursor were read) are dropped; when the cursor read returned rows up to {@code newCursor}
     * with {@code snapshot}, the transactions that snapshot saw in progress, and every xid from
     * its xmax up to {@code bound} (an xid taken after the snapshot), are watched.
     */
    LaneCursor advance(Collection<Long> drained, long newCursor, PgSnapshot snapshot, long bound) {
        Set<Long> next = new HashSet<>(watched);
        next.removeAll(drained);
        if (newCursor > cursor) {
            if (snapshot == null) {
                throw new IllegalArgumentException("a cursor moves only with the snapshot of its read");
            }
            for (long xid : snapshot.xip()) {
                next.add(xid);
            }
            if (bound - snapshot.xmax() > MAX_WATCH_RANGE) {
                throw new IllegalStateException("xid range " + snapshot.xmax() + ".." + bound + " too wide to watch");
            }
            for (long xid = snapshot.xmax(); xid < bound; xid++) {
                next.add(xid);
            }
        }
        return new LaneCursor(lane, Math.max(cursor, newCursor), next);
    }

    @Override
    public String toString() {
        return lane.tag + "@" + cursor + " watching " + watched.size();
    }
}
