package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.Await;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Replication factor 3 on three members: every undecided trace is on all of them. Under load, one member is
 * SIGKILLed, and once the survivors have dropped it (and the next owner has taken its traces over) a second one is
 * killed while it still holds those traces undecided: the last member decides everything, and no acknowledged error
 * trace is lost or partial.
 */
class ClusterReplicationIT extends ClusterHarness {
  @Override
  int replicationFactor() {
    return 3;
  }

  @Test
  void twoMembersKilledInTurnLoseNothingAcknowledged() throws Exception {
    Ledger ledger = new Ledger();
    AtomicBoolean go = new AtomicBoolean(true);
    List<Thread> load = load(ledger, go);
    assertThat(nodes[2].cluster().getInteger("replication_factor")).isEqualTo(3);
    HashRing ring = new HashRing(nodes[2].cluster().getJsonArray("ring").stream().map(JsonObject.class::cast)
        .map(m -> m.getString("id")).toList(), dev.telemetry.gateway.config.ClusterConfig.DEFAULT_VIRTUAL_NODES);
    String first = nodes[0].cluster().getString("self");
    String second = nodes[1].cluster().getString("self");
    long firstKill = System.nanoTime();
    nodes[0].process.destroyForcibly(); // SIGKILL
    assertThat(nodes[0].process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Await.until("the survivors drop the first dead member", FAILURE_TIMEOUT.plusSeconds(30),
        () -> nodes[1].ringSize() == 2 && nodes[2].ringSize() == 2);
    // At once: member 1 holds the traces it took over from member 0 undecided (decision_wait + grace).
    long secondKill = System.nanoTime();
    nodes[1].process.destroyForcibly();
    assertThat(nodes[1].process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    try {
      Await.until("the last member drops the second", FAILURE_TIMEOUT.plusSeconds(30),
          () -> nodes[2].ringSize() == 1);
    } catch (AssertionError e) {
      System.out.println("node2 /cluster: " + nodes[2].cluster());
      nodes[2].log("second kill not noticed");
      throw e;
    }
    sleep(2000);
    stop(load, go);
    awaitQuiet();
    Outcome o = check(ledger);
    double adopted = nodes[2].metric("gateway_cluster_replica_adopted_traces_total");
    List<ByteString> firstOwned = o.lost().stream().filter(t -> ring.owner(t).equals(first)).toList();
    System.out.println("two SIGKILLs, replication factor 3: " + o.lost().size() + " error traces lost or partial of "
        + o.expected() + " (" + firstOwned.size() + " owned by the first killed); the last member took over "
        + adopted + " traces; duplicated: " + o.duplicated());
    for (ByteString t : o.lost()) {
      System.out.println("lost " + t.asReadOnlyByteBuffer().getLong(8) + ": owner " + ring.owner(t) + ", acked by "
          + ledger.ackedBy.get(t) + " at " + ledger.ackedAt.get(t).stream().map(at -> (at - firstKill) / 1_000_000
          + "ms").toList() + " after the first kill (second at " + (secondKill - firstKill) / 1_000_000 + "ms)");
    }
    for (String m : List.of("gateway_processor_tail_sampling_late_spans_total",
        "gateway_processor_tail_sampling_duplicate_spans_total", "gateway_processor_tail_sampling_adopted_spans_total",
        "gateway_exporter_items_failed_total", "gateway_processor_tail_sampling_early_decisions_total",
        "gateway_cluster_replica_released_spans_total")) {
      System.out.println("node2 " + m + " = " + nodes[2].metric(m));
    }
    HashRing two = new HashRing(ring.members().stream().filter(m -> !m.equals(first)).toList(),
        dev.telemetry.gateway.config.ClusterConfig.DEFAULT_VIRTUAL_NODES);
    for (ByteString t : o.lost()) {
      System.out.println("lost " + t.asReadOnlyByteBuffer().getLong(8) + ": 3-ring successors "
          + ring.successors(t, 2) + ", 2-ring owner " + two.owner(t) + "; member ids: node0 " + first + ", node2 "
          + nodes[2].cluster().getString("self"));
    }
    if (!o.lost().isEmpty()) {
      for (Node n : nodes) {
        n.log("lost traces");
      }
    }
    assertThat(adopted).as("traces the last member took over").isPositive();
    // Every acknowledged error trace arrives whole, except one whose spans were sent and acknowledged further apart
    // than decision_wait (held up by a forward to the dying member): decided before its error span came, as designed.
    List<ByteString> straggled = o.lost().stream().filter(ledger::straggled).toList();
    System.out.println("lost or partial, first sent and last acknowledged more than decision_wait apart: " + straggled.size());
    assertThat(o.lost()).as("acknowledged error traces lost or partial").allMatch(ledger::straggled);
    assertThat(o.unexpected()).isZero();
    // At least once: traces a client retried, and traces a killed member decided shortly before its death (it
    // announces kept traces late, so that its successor delivers them if its own export died with it).
    assertThat(o.duplicates()).as("duplicated traces no client retried and no killed member owned").allMatch(t ->
        ledger.retried.contains(t) || ring.owner(t).equals(first) || ring.owner(t).equals(second)
            || two.owner(t).equals(second));
    assertThat(nodes[2].process.isAlive()).isTrue();
  }

}
