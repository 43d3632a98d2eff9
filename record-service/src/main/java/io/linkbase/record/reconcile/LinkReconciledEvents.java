package io.linkbase.record.reconcile;

import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.reconcile.ValueClearing.Cleared;

import java.util.ArrayList;
import java.util.List;

/** The LinkReconciled events that end a link's reconciliation: its counts and every value it cleared. */
final class LinkReconciledEvents {
    /** Keeps each LinkReconciled well under Kafka's default 1 MB message limit. */
    private static final int MAX_CLEARED_BYTES = 256 * 1024;

    private LinkReconciledEvents() {
    }

    /** LinkReconciled, split so each stays well under Kafka's message limit; every part carries the counts. */
    static List<EventEnvelope.Builder> split(String tableId, Catalog.Link link, long kept, List<Cleared> cleared) {
        List<LinkReconciled.Builder> parts = new ArrayList<>();
        LinkReconciled.Builder part = null;
        int bytes = 0;
        for (Cleared one : cleared) {
            if (part == null || bytes > MAX_CLEARED_BYTES) {
                part = newPart(tableId, link, kept, cleared.size());
                parts.add(part);
                bytes = 0;
            }
            ClearedValue v = ClearedValue.newBuilder().setRecordId(one.recordId()).setFormerValue(one.former()).build();
            part.addClearedValues(v);
            bytes += v.getSerializedSize() + 4;
        }
        if (parts.isEmpty()) {
            parts.add(newPart(tableId, link, kept, 0));
        }
        List<EventEnvelope.Builder> events = new ArrayList<>();
        for (LinkReconciled.Builder p : parts) {
            events.add(EventEnvelope.newBuilder().setLinkReconciled(p));
        }
        return events;
    }

    private static LinkReconciled.Builder newPart(String tableId, Catalog.Link link, long kept, long clearedCount) {
        return LinkReconciled.newBuilder().setTableId(tableId).setColumnId(link.columnId())
            .setTargetTableId(link.targetTableId()).setTargetColumnId(link.targetColumnId())
            .setLinkVersion(link.linkVersion()).setKeptCount(kept).setClearedCount(clearedCount);
    }
}
