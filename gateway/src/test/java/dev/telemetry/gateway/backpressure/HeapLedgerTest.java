package dev.telemetry.gateway.backpressure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class HeapLedgerTest {
  @Test
  void chargesUpToTheLimitThenRefusesAndFreesExactly() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    HeapLedger ledger = new HeapLedger(100, registry);
    assertThat(ledger.tryCharge(60)).isTrue();
    assertThat(ledger.tryCharge(50)).as("would pass the limit").isFalse();
    assertThat(ledger.held()).as("a refused charge takes nothing").isEqualTo(60);
    assertThat(ledger.tryCharge(40)).isTrue();
    ledger.free(100);
    assertThat(ledger.held()).isZero();
    assertThat(ledger.tryCharge(500)).as("alone, a charge larger than the limit is taken").isTrue();
    assertThat(ledger.tryCharge(1)).isFalse();
    ledger.charge(10); // acknowledged data (replay, hand-over) is held whatever it costs
    assertThat(ledger.held()).isEqualTo(510);
    assertThat(registry.get("gateway.memory.charge.refusals").counter().count()).isEqualTo(2);
    assertThat(registry.get("gateway.memory.charged").gauge().value()).isEqualTo(510);
  }

  @Test
  void reservationsFollowTheContract() {
    HeapLedger ledger = new HeapLedger(100, new SimpleMeterRegistry());
    Reservation r = ledger.reserve(70);
    assertThatThrownBy(() -> ledger.reserve(40)).isInstanceOfSatisfying(RefusedException.class,
        e -> assertThat(e.reason()).isEqualTo(RefusedException.Reason.MEMORY_LIMIT));
    r.release();
    assertThat(ledger.held()).isZero();
    ledger.reserve(70).commit();
    assertThat(ledger.held()).as("a committed charge stays until its holder frees it").isEqualTo(70);
  }
}
