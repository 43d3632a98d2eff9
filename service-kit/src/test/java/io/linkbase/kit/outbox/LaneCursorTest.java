package io.linkbase.kit.outbox;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LaneCursorTest {

    @Test
    void aSnapshotTellsCompletedFromInProgress() {
        PgSnapshot s = PgSnapshot.parse("100:110:103,107");
        assertThat(s.completed(99)).isTrue();
        assertThat(s.completed(100)).isTrue();
        assertThat(s.completed(103)).isFalse();
        assertThat(s.completed(105)).isTrue();
        assertThat(s.completed(107)).isFalse();
        assertThat(s.completed(110)).isFalse(); // at xmax: in progress
        assertThat(PgSnapshot.parse("5:5:").xip()).isEmpty();
    }

    @Test
    void movingTheCursorWatchesTheInProgressListAndEverythingFromXmaxToTheBound() {
        LaneCursor start = LaneCursor.start(Lane.INTERACTIVE);
        LaneCursor next = start.advance(Set.of(), 42, PgSnapshot.parse("100:110:103,107"), 113);
        assertThat(next.cursor).isEqualTo(42);
        assertThat(next.watched).containsExactlyInAnyOrder(103L, 107L, 110L, 111L, 112L);
    }

    @Test
    void notMovingTheCursorWatchesNothingNewAndDrainedTransactionsAreDropped() {
        LaneCursor at = new LaneCursor(Lane.BULK, 42, Set.of(103L, 107L, 110L));
        PgSnapshot later = PgSnapshot.parse("104:120:107");
        assertThat(at.completedIn(later)).containsExactlyInAnyOrder(103L, 110L);
        LaneCursor next = at.advance(at.completedIn(later), 42, null, 0);
        assertThat(next.watched).containsExactly(107L);
        assertThat(next.cursor).isEqualTo(42);
    }

    @Test
    void aCursorNeverMovesBackNorWithoutItsSnapshot() {
        LaneCursor at = new LaneCursor(Lane.INTERACTIVE, 42, Set.of());
        assertThat(at.advance(Set.of(), 40, PgSnapshot.parse("1:2:"), 2).cursor).isEqualTo(42);
        assertThatThrownBy(() -> at.advance(Set.of(), 50, null, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLaneOfATopicIsTheGeneratedColumnsRule() {
        assertThat(Lane.of("linkbase.records.bulk.v1")).isEqualTo(Lane.BULK);
        assertThat(Lane.of("linkbase.records.v1")).isEqualTo(Lane.INTERACTIVE);
        assertThat(OutboxRelay.lz4UpperBound(1_000_000)).isGreaterThan(1_000_000);
    }
}
