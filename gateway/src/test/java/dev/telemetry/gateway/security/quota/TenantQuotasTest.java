package dev.telemetry.gateway.security.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.config.QuotasConfig;
import dev.telemetry.gateway.config.QuotasConfig.Limit;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.routing.RouteMatcher;
import dev.telemetry.gateway.routing.RoutingCatalog;
import dev.telemetry.gateway.routing.RoutingTableParser;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TenantQuotasTest {
  final AtomicLong clock = new AtomicLong(1_000_000_000L);
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  TenantQuotas quotas(Limit defaults, Map<String, Limit> tenants) {
    return new TenantQuotas(new QuotasConfig(defaults, tenants, 1, 3), registry, clock::get);
  }

  static ExportTraceServiceRequest spans(String tenantAttribute, int n) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int i = 0; i < n; i++) {
      ss.addSpans(Span.newBuilder().setName("s" + i));
    }
    ResourceSpans.Builder rs = ResourceSpans.newBuilder().addScopeSpans(ss);
    if (tenantAttribute != null) {
      rs.setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("tenant.id")
          .setValue(AnyValue.newBuilder().setStringValue(tenantAttribute))));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(rs).build();
  }

  static RouteMatcher matcher() throws Exception {
    RoutingCatalog catalog = new RoutingCatalog(Map.of(Signal.TRACES, List.of("x")), Set.of(), Set.of());
    return new RouteMatcher(RoutingTableParser.parse(new JsonObject("""
        {"tenant": {"header": "X-Scope-OrgID", "attribute": "tenant.id", "default": "shared"}, "rules": []}"""),
        catalog), new SimpleMeterRegistry());
  }

  void advance(long millis) {
    clock.addAndGet(millis * 1_000_000L);
  }

  @Test
  void aTenantOverItsRateIsRefusedWithTheTimeUntilItHasRoomAndOthersAreNot() {
    TenantQuotas q = quotas(new Limit(100, 0), Map.of());
    q.reserve(Signal.TRACES, spans(null, 80), 80, 1000, null, "acme").commit();
    RefusedException e = org.junit.jupiter.api.Assertions.assertThrows(RefusedException.class,
        () -> q.reserve(Signal.TRACES, spans(null, 40), 40, 1000, null, "acme"));
    assertThat(e.reason()).isEqualTo(RefusedException.Reason.QUOTA);
    assertThat(e.retryAfterMillis()).isEqualTo(200); // 20 left; 20 more at 100/s
    assertThat(e.getMessage()).isEqualTo("tenant \"acme\" is over its quota (100 items/s); retry in 200 ms");
    q.reserve(Signal.TRACES, spans(null, 100), 100, 1000, null, "beta").commit();
    advance(200);
    q.reserve(Signal.TRACES, spans(null, 40), 40, 1000, null, "acme").commit();
    assertThat(registry.get("gateway.tenant.items").tag("tenant", "acme").tag("result", "admitted").counter()
        .count()).isEqualTo(120);
    assertThat(registry.get("gateway.tenant.items").tag("tenant", "acme").tag("result", "refused").counter()
        .count()).isEqualTo(40);
  }

  @Test
  void aReleasedReservationIsRefundedAndATooLargeRequestPassesOnAFullBucket() {
    TenantQuotas q = quotas(new Limit(100, 10_000), Map.of());
    Reservation r = q.reserve(Signal.TRACES, spans(null, 100), 100, 5_000, null, "acme");
    r.release(); // refused further on: not charged
    q.reserve(Signal.TRACES, spans(null, 100), 100, 5_000, null, "acme").commit();
    assertThatThrownBy(() -> q.reserve(Signal.TRACES, spans(null, 1), 1, 1, null, "acme"))
        .isInstanceOf(RefusedException.class);
    advance(1000);
    // 250 items is more than a whole second's burst: admitted on a full bucket, leaving it in debt.
    q.reserve(Signal.TRACES, spans(null, 250), 250, 100, null, "acme").commit();
    advance(1000);
    RefusedException e = org.junit.jupiter.api.Assertions.assertThrows(RefusedException.class,
        () -> q.reserve(Signal.TRACES, spans(null, 10), 10, 100, null, "acme"));
    assertThat(e.retryAfterMillis()).isEqualTo(600); // -150 + 100 = -50: 60 more to have 10
    q.reserve(Signal.TRACES, spans(null, 1), 1, 9_000, null, "other").commit();
    RefusedException bytes = org.junit.jupiter.api.Assertions.assertThrows(RefusedException.class,
        () -> q.reserve(Signal.TRACES, spans(null, 1), 1, 5_000, null, "other"));
    assertThat(bytes.retryAfterMillis()).isEqualTo(400);
    assertThat(bytes.getMessage()).contains("100 items/s, 10000 bytes/s");
  }

  @Test
  void eachResourcesTenantIsChargedAndAllOrNothing() throws Exception {
    TenantQuotas q = quotas(new Limit(100, 0), Map.of("big", new Limit(1000, 0)));
    RouteMatcher m = matcher();
    ExportTraceServiceRequest mixed = spans("big", 300).toBuilder().addResourceSpans(spans("small", 80)
        .getResourceSpans(0)).addResourceSpans(spans(null, 10).getResourceSpans(0)).build();
    Map<String, long[]> cost = TenantQuotas.cost(Signal.TRACES, mixed, 390, 3900, m, null);
    assertThat(cost.keySet()).containsExactly("big", "small", "shared");
    assertThat(cost.get("big")).containsExactly(300, 3000);
    assertThat(cost.get("small")).containsExactly(80, 800);
    assertThat(cost.get("shared")).containsExactly(10, 100);
    q.reserve(Signal.TRACES, mixed, 390, 3900, m, null).commit();
    // small has 20 left: a request with 300 more for big and 30 for small is refused whole, big not charged.
    ExportTraceServiceRequest again = spans("big", 300).toBuilder().addResourceSpans(spans("small", 30)
        .getResourceSpans(0)).build();
    assertThatThrownBy(() -> q.reserve(Signal.TRACES, again, 330, 0, m, null)).hasMessageContaining("\"small\"");
    q.reserve(Signal.TRACES, spans("big", 700), 700, 0, m, null).commit();
    // The header wins over attributes.
    assertThat(TenantQuotas.cost(Signal.TRACES, mixed, 390, 3900, m, "acme").keySet()).containsExactly("acme");
  }

  @Test
  void overridesShareAndTheTenantBound() {
    TenantQuotas q = quotas(new Limit(100, 0), Map.of());
    q.share(0.5); // a member of a two-member ring: 50 items/s here
    q.reserve(Signal.TRACES, spans(null, 40), 40, 0, null, "acme").commit();
    assertThatThrownBy(() -> q.reserve(Signal.TRACES, spans(null, 20), 20, 0, null, "acme"))
        .hasMessageContaining("50% of it on this member");
    assertThat(q.override("acme", new Limit(1000, 0))).isNull();
    advance(200); // refills at the raised rate (500/s here): 10 + 100
    q.reserve(Signal.TRACES, spans(null, 110), 110, 0, null, "acme").commit();
    q.clearOverride("acme");
    assertThat(q.limit("acme")).isEqualTo(new Limit(100, 0));
    q.reserve(Signal.TRACES, spans(null, 1), 1, 0, null, "b").commit();
    q.reserve(Signal.TRACES, spans(null, 1), 1, 0, null, "c").commit();
    q.reserve(Signal.TRACES, spans(null, 1), 1, 0, null, "d").commit(); // beyond max_tenants (3)
    assertThat(registry.get("gateway.tenant.items").tag("tenant", TenantQuotas.OTHER).tag("result", "admitted")
        .counter().count()).isOne();
  }
}
