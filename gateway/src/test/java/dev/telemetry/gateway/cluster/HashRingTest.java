package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashRingTest {
  static final int TRACES = 60_000;

  static ByteString traceId(Random r) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(r.nextLong()).putLong(r.nextLong()).array());
  }

  @Test
  void membersShareTraceIdsEvenlyAndSharesAddUp() {
    HashRing ring = new HashRing(List.of("a", "b", "c"), 128);
    Map<String, Integer> counts = new HashMap<>();
    Random r = new Random(1);
    for (int i = 0; i < TRACES; i++) {
      counts.merge(ring.owner(traceId(r)), 1, Integer::sum);
    }
    for (String m : ring.members()) {
      assertThat(counts.get(m) / (double) TRACES).as(m).isCloseTo(1 / 3.0, offset(0.06));
      // the share computed from the ring predicts what the member receives
      assertThat(ring.share(m)).isCloseTo(counts.get(m) / (double) TRACES, offset(0.01));
    }
    assertThat(ring.share("a") + ring.share("b") + ring.share("c")).isCloseTo(1.0, offset(1e-9));
    assertThat(ring.share("z")).isZero();
  }

  @Test
  void everyMemberComputesTheSameRingWhateverTheOrder() {
    HashRing one = new HashRing(List.of("a", "b", "c"), 64);
    HashRing two = new HashRing(List.of("c", "a", "b", "a"), 64);
    Random r = new Random(2);
    for (int i = 0; i < 5_000; i++) {
      ByteString id = traceId(r);
      assertThat(two.owner(id)).isEqualTo(one.owner(id));
    }
  }

  @Test
  void aMemberLeavingMovesOnlyItsOwnTracesAndAJoinerTakesAboutItsShare() {
    HashRing three = new HashRing(List.of("a", "b", "c"), 128);
    HashRing two = new HashRing(List.of("a", "b"), 128);
    HashRing four = new HashRing(List.of("a", "b", "c", "d"), 128);
    Random r = new Random(3);
    int movedToD = 0;
    for (int i = 0; i < TRACES; i++) {
      ByteString id = traceId(r);
      String before = three.owner(id);
      if (!before.equals("c")) {
        assertThat(two.owner(id)).as("traces of the members that stay stay with them").isEqualTo(before);
      }
      String after = four.owner(id);
      if (!after.equals(before)) {
        assertThat(after).as("a joiner only takes traces, others do not swap").isEqualTo("d");
        movedToD++;
      }
    }
    assertThat(movedToD / (double) TRACES).isCloseTo(0.25, offset(0.06));
  }

  @Test
  void successorsAreDistinctNotTheOwnerAndTheFirstOneOwnsTheTraceWhenTheOwnerIsGone() {
    List<String> members = List.of("a", "b", "c", "d");
    HashRing four = new HashRing(members, 128);
    Random r = new Random(4);
    Map<String, Integer> firstSuccessor = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      ByteString id = traceId(r);
      String owner = four.owner(id);
      List<String> next = four.successors(id, 2);
      assertThat(next).hasSize(2).doesNotContain(owner).doesNotHaveDuplicates();
      assertThat(four.successors(id, 1)).containsExactly(next.get(0));
      assertThat(four.successors(id, 9)).hasSize(3).startsWith(next.get(0), next.get(1));
      // The owner crashes: its successor owns the trace, and the next one succeeds it (a second crash, RF 3).
      HashRing without = new HashRing(members.stream().filter(m -> !m.equals(owner)).toList(), 128);
      assertThat(without.owner(id)).isEqualTo(next.get(0));
      assertThat(without.successors(id, 1)).containsExactly(next.get(1));
      firstSuccessor.merge(next.get(0), 1, Integer::sum);
    }
    // Replicas spread like ownership does.
    for (String m : members) {
      assertThat(firstSuccessor.get(m) / 20_000.0).as(m).isCloseTo(0.25, offset(0.06));
    }
  }

  @Test
  void edgeCases() {
    HashRing empty = new HashRing(List.of(), 16);
    assertThat(empty.isEmpty()).isTrue();
    assertThat(empty.owner(ByteString.copyFrom(new byte[16]))).isNull();
    HashRing single = new HashRing(List.of("only"), 1);
    assertThat(single.owner(ByteString.copyFrom(new byte[16]))).isEqualTo("only");
    assertThat(single.share("only")).isEqualTo(1.0);
    assertThat(single.successors(ByteString.copyFrom(new byte[16]), 1)).isEmpty();
    assertThat(empty.successors(ByteString.copyFrom(new byte[16]), 1)).isEmpty();
  }
}
