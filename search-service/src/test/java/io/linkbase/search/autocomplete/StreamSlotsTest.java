package io.linkbase.search.autocomplete;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamSlotsTest {
    @Test
    void perTenantAndTotalLimitsAndEachReleaseCountsOnce() {
        StreamSlots slots = new StreamSlots(2, 3);
        Runnable a1 = slots.tryAcquire("a");
        Runnable a2 = slots.tryAcquire("a");
        assertThat(a1).isNotNull();
        assertThat(a2).isNotNull();
        assertThat(slots.tryAcquire("a")).isNull(); // the tenant's limit
        Runnable b1 = slots.tryAcquire("b");
        assertThat(b1).isNotNull();
        assertThat(slots.tryAcquire("c")).isNull(); // the instance's limit
        assertThat(slots.open()).isEqualTo(3);

        a1.run();
        a1.run(); // a second end path of the same stream gives nothing more back
        assertThat(slots.open("a")).isEqualTo(1);
        assertThat(slots.open()).isEqualTo(2);
        assertThat(slots.tryAcquire("c")).isNotNull();
    }

    @Test
    void countsDisappearWithTheirLastStream() {
        StreamSlots slots = new StreamSlots(64, 10_000);
        List<Runnable> held = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            Runnable r = slots.tryAcquire("t" + (i % 100));
            if (r != null) {
                held.add(r);
            }
        }
        assertThat(held).hasSize(5_000);
        assertThat(slots.callers()).isEqualTo(100);
        held.forEach(Runnable::run);
        assertThat(slots.callers()).isZero();
        assertThat(slots.open()).isZero();
    }
}
