package io.linkbase.kit.limits;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SlotsTest {
    @Test
    void innerAndOuterLimitsAndEachReleaseCountsOnce() {
        Slots slots = new Slots(2, 3);
        List<Runnable> held = new ArrayList<>();
        held.add(slots.tryAcquire("acme", "ada").release());
        held.add(slots.tryAcquire("acme", "ada").release());
        assertThat(slots.tryAcquire("acme", "ada").refusedBy()).isEqualTo(Slots.Level.INNER);
        held.add(slots.tryAcquire("acme", "bob").release());
        assertThat(slots.tryAcquire("acme", "cy").refusedBy()).isEqualTo(Slots.Level.OUTER);
        assertThat(slots.open("acme", "cy")).isZero(); // a refusal holds nothing
        assertThat(slots.tryAcquire("other", "ada").granted()).isTrue();

        held.get(0).run();
        held.get(0).run(); // a second end path of the same stream gives nothing more back
        assertThat(slots.open("acme", "ada")).isEqualTo(1);
        assertThat(slots.open("acme")).isEqualTo(2);
        assertThat(slots.tryAcquire("acme", "cy").granted()).isTrue();
        assertThat(slots.tryAcquire("acme", "ada").refusedBy()).isEqualTo(Slots.Level.OUTER);
    }

    @Test
    void countsDisappearWithTheirLastSlot() {
        Slots slots = new Slots(8, 64);
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
