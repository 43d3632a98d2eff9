package io.linkbase.kit.outbox;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * An outbox row's envelopes. A row of one event ({@code outbox.events = 1}, kit V0_5) holds the
 * envelope as it is; a pack (more than one, written by {@link OutboxRows} on a bulk topic) holds
 * each envelope as its 4-byte big-endian length and its bytes, in order.
 */
public final class Packs {
    private Packs() {
    }

    /** The envelopes of a row of {@code events} events; IllegalArgumentException if the bytes do not say so. */
    public static List<byte[]> envelopes(byte[] envelope, int events) {
        if (events == 1) {
            return List.of(envelope);
        }
        if (events < 1) {
            throw new IllegalArgumentException("an outbox row of " + events + " events");
        }
        List<byte[]> out = new ArrayList<>(events);
        ByteBuffer in = ByteBuffer.wrap(envelope);
        for (int i = 0; i < events; i++) {
            if (in.remaining() < 4) {
                throw new IllegalArgumentException("a pack of " + events + " events ends after " + i);
            }
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new IllegalArgumentException("event " + i + " of a pack claims " + length + " bytes, "
                    + in.remaining() + " are left");
            }
            byte[] e = new byte[length];
            in.get(e);
            out.add(e);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("a pack of " + events + " events has " + in.remaining() + " bytes more");
        }
        return out;
    }
}
