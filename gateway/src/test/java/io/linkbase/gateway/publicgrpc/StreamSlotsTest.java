package io.linkbase.gateway.publicgrpc;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamSlotsTest {
    @Test
    void perUserAndPerTenantLimitsAndEachReleaseCountsOnce() {
        StreamSlots slots = new StreamSlots(2, 3);
        List<Runnable> held = new ArrayList<>();
        held.add(slots.tryAcquire("acme", "ada").release());
        held.add(slots.tryAcquire("acme", "ada").release());
        assertThat(slots.tryAcquire("acme", "ada").refusedBy()).isEqualTo("user");
        held.add(slots.tryAcquire("acme", "bob").release());
        assertThat(slots.tryAcquire("acme", "cy").refusedBy()).isEqualTo("tenant");
        assertThat(slots.openForUser("acme", "cy")).isZero(); // a refusal holds nothing
        assertThat(slots.tryAcquire("other", "ada").release()).isNotNull();

        held.get(0).run();
        held.get(0).run(); // a second end path of the same stream gives nothing more back
        assertThat(slots.openForUser("acme", "ada")).isEqualTo(1);
        assertThat(slots.openForTenant("acme")).isEqualTo(2);
        assertThat(slots.tryAcquire("acme", "cy").release()).isNotNull();
        assertThat(slots.tryAcquire("acme", "ada").refusedBy()).isEqualTo("tenant");
    }

    @Test
    void countsDisappearWithTheirLastStream() {
        StreamSlots slots = new StreamSlots(8, 64);
        List<Runnable> held = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Runnable r = slots.tryAcquire("t" + (i % 10), "u" + i).release();
            if (r != null) {
                held.add(r);
            }
        }
        assertThat(held).hasSize(640);
        held.forEach(Runnable::run);
        assertThat(slots.keys()).isZero();
    }
}
