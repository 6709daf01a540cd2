package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's scenarios on {@link ClusterHarness}'s three members: traces decided once and whole although their
 * spans arrive at different members, a routing change through one member's API applied on all, then membership
 * changes under load — a graceful leave (nothing lost), a rejoin (it takes its share back), a SIGKILL (replication
 * factor 2: the killed member's undecided traces are taken over by their successors, nothing acknowledged is lost).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT extends ClusterHarness {
  @Test
  @Order(1)
  void eachTraceIsDecidedOnceWholeAlthoughItsSpansArriveAtDifferentMembers() throws Exception {
    Ledger ledger = new Ledger();
    send(ledger, List.of(nodes), 30, new AtomicBoolean(true)); // 600 traces, 2,400 spans over 120 requests
    awaitQuiet();
    Outcome o = check(ledger);
    double late = 0;
    double exportFailed = 0;
    for (Node n : nodes) {
      late += n.metric("gateway_processor_tail_sampling_late_spans_total") - lateBefore[n.index];
      exportFailed += n.metric("gateway_exporter_items_failed_total");
    }
    assertThat(o.expected()).isEqualTo(300);
    // Whole error traces can go missing two ways: decided before their last span reached the owner (late spans:
    // slower than decision_wait, as on a cold cluster), or lost after the decision (export failures). Neither may
    // happen in a steady cluster; the message tells which it was.
    assertThat(o.whole()).as("error traces delivered whole; %s spans came after their trace was decided, %s spans "
        + "failed to export", late, exportFailed).isEqualTo(300);
    assertThat(late).as("spans that reached their owner after decision_wait").isZero();
    assertThat(exportFailed).as("spans given up by an exporter").isZero();
    assertThat(o.duplicated()).isZero();
    assertThat(o.unexpected()).isZero();
    for (Node n : nodes) {
      assertThat(n.metric("gateway_cluster_forward_sent_spans_total")).as("node%d forwarded", n.index)
          .isPositive();
      assertThat(n.metric("gateway_processor_tail_sampling_traces_total")).as("node%d decided", n.index)
          .isPositive();
    }
    double decided = 0;
    for (Node n : nodes) {
      decided += n.metric("gateway_processor_tail_sampling_traces_total") - decidedBefore[n.index];
    }
    assertThat(decided).as("each trace decided once in the whole cluster").isEqualTo(600);
  }

  @Test
  @Order(2)
  void aRoutingChangeThroughOneMembersApiAppliesOnAll() throws Exception {
    int before = nodes[0].routes().getInteger("version");
    assertThat(nodes[1].routes().getInteger("version")).isEqualTo(before);
    String table = """
        {"rules": [{"id": "drop-noise", "match": {"signal": "traces", "resource": {"service.name": "svc-noise"}},
                    "drop": true},
                   {"id": "drop-canary", "match": {"signal": "traces", "resource": {"service.name": "svc-canary"}},
                    "drop": true}]}""";
    HttpResponse<String> put = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes[0].admin
        + "/api/v1/routes")).header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(20))
        .PUT(HttpRequest.BodyPublishers.ofString(table)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    int version = new JsonObject(put.body()).getInteger("version");
    assertThat(version).isEqualTo(before + 1);
    Await.until("every member runs version " + version, Duration.ofSeconds(15), () -> List.of(nodes).stream()
        .allMatch(n -> {
          JsonObject r = n.routes();
          return r != null && r.getInteger("version") == version
              && r.getJsonObject("table").getJsonArray("rules").size() == 2;
        }));
    // The other members wrote it to their own routes files, so a restart starts from it.
    Await.until("member 2's file follows", Duration.ofSeconds(10), () -> {
      try {
        return Files.readString(tmp.resolve("routes2.json")).contains("drop-canary");
      } catch (java.io.IOException e) {
        return false;
      }
    });
    // Rate budgets are shared by ring share: the members' shares add up to the whole.
    double shares = 0;
    for (Node n : nodes) {
      shares += n.metric("gateway_cluster_ring_share");
    }
    assertThat(shares).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  @Order(3)
  void gracefulLeaveUnderLoadLosesNothing() throws Exception {
    Ledger ledger = new Ledger();
    AtomicBoolean go = new AtomicBoolean(true);
    List<Thread> load = load(ledger, go);
    nodes[2].process.destroy(); // SIGTERM: leave gracefully
    assertThat(nodes[2].process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    sleep(1500);
    stop(load, go);
    nodes[2].log("after graceful leave");
    awaitRing(List.of(nodes[0], nodes[1]), 2);
    awaitQuiet();
    Outcome o = check(ledger);
    if (o.duplicated() > 0) {
      nodes[0].log("duplicates after the graceful leave");
      nodes[1].log("duplicates after the graceful leave");
    }
    assertThat(o.lost()).as("acknowledged error traces lost or partial").isEmpty();
    assertThat(o.duplicated()).isZero();
    assertThat(o.unexpected()).isZero();
    assertThat(Files.readString(tmp.resolve("node2.log"))).contains("buffered traces handed over");
  }

  @Test
  @Order(4)
  void aRejoiningMemberTakesItsShareBack() throws Exception {
    nodes[2].start(transport());
    awaitRing(List.of(nodes), 3);
    assertThat(nodes[2].routes().getJsonObject("table").getJsonArray("rules").size()).as("the cluster's table")
        .isEqualTo(2);
    Ledger ledger = new Ledger();
    send(ledger, List.of(nodes[0], nodes[1]), 30, new AtomicBoolean(true)); // clients still only know two
    awaitQuiet();
    Outcome o = check(ledger);
    assertThat(o.lost()).isEmpty();
    assertThat(o.duplicated()).isZero();
    assertThat(nodes[2].metric("gateway_cluster_forward_received_spans_total")).as("the rejoined member owns "
        + "traces again").isPositive();
    assertThat(nodes[2].metric("gateway_processor_tail_sampling_traces_total")).isPositive();
    double share = nodes[0].cluster().getJsonArray("ring").stream().map(JsonObject.class::cast)
        .filter(m -> m.getString("id").equals(nodes[2].cluster().getString("self")))
        .mapToDouble(m -> m.getDouble("share")).sum();
    assertThat(share).isBetween(0.2, 0.5);
  }

  @Test
  @Order(5)
  void sigkillLosesNothingAcknowledgedTheSuccessorsTakeItsTracesOver() throws Exception {
    // The ring before the kill: which member owned each trace.
    String killed = nodes[1].cluster().getString("self");
    HashRing ring = new HashRing(nodes[0].cluster().getJsonArray("ring").stream().map(JsonObject.class::cast)
        .map(m -> m.getString("id")).toList(), dev.telemetry.gateway.config.ClusterConfig.DEFAULT_VIRTUAL_NODES);
    Ledger ledger = new Ledger();
    AtomicBoolean go = new AtomicBoolean(true);
    List<Thread> load = load(ledger, go);
    nodes[1].process.destroyForcibly(); // SIGKILL
    assertThat(nodes[1].process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int refusedBefore = ledger.refusedBySurvivors.get();
    Await.until("the survivors drop the dead member", FAILURE_TIMEOUT.plusSeconds(30),
        () -> nodes[0].ringSize() == 2 && nodes[2].ringSize() == 2);
    sleep(2000); // and keep serving afterwards
    stop(load, go);
    awaitQuiet();
    Outcome o = check(ledger);
    double adopted = nodes[0].metric("gateway_cluster_replica_adopted_traces_total")
        + nodes[2].metric("gateway_cluster_replica_adopted_traces_total");
    List<ByteString> itsOwn = o.lost().stream().filter(t -> ring.owner(t).equals(killed)).toList();
    System.out.println("SIGKILL: " + o.lost().size() + " error traces lost or partial of " + o.expected()
        + " (owned by the killed member: " + itsOwn.size() + "); traces taken over from replicas: " + adopted
        + "; duplicated: " + o.duplicated() + "; refused by survivors: "
        + (ledger.refusedBySurvivors.get() - refusedBefore));
    assertThat(adopted).as("the killed member's undecided traces taken over by their successors").isPositive();
    // Every acknowledged error trace arrives whole, except one whose spans were sent and acknowledged further apart
    // than decision_wait (held up by a forward to the dying member): decided before its error span came, as designed.
    List<ByteString> straggled = o.lost().stream().filter(ledger::straggled).toList();
    System.out.println("lost or partial, first sent and last acknowledged more than decision_wait apart: " + straggled.size());
    assertThat(o.lost()).as("acknowledged error traces lost or partial").allMatch(ledger::straggled);
    // At least once: a request cut by the kill after the killed member had passed its spans on is retried by the
    // client elsewhere; a trace the killed member decided in its last announcement interval is decided again by
    // its successor. Only those may arrive twice.
    assertThat(o.duplicates()).as("duplicated traces that no client retried and the killed member did not own")
        .allMatch(t -> ledger.retried.contains(t) || ring.owner(t).equals(killed));
    assertThat(nodes[0].process.isAlive()).isTrue();
    assertThat(nodes[2].process.isAlive()).isTrue();
    assertThat(Http.status(client, "http://127.0.0.1:" + nodes[0].admin + "/health/ready")).isEqualTo(200);
  }
}
