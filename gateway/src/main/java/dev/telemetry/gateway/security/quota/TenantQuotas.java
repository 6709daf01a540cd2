package dev.telemetry.gateway.security.quota;

import com.google.protobuf.Message;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.config.QuotasConfig;
import dev.telemetry.gateway.config.QuotasConfig.Limit;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.Admission;
import dev.telemetry.gateway.routing.RouteMatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Per-tenant quotas: a token bucket of items and one of bytes per tenant, refilled at the tenant's rate (its own,
 * an override a remediation set, or the default) times this member's share of the cluster, holding at most
 * {@code burst_seconds} of it. A request is charged per tenant of its items (the tenant header, else each resource's
 * tenant attribute, else the routing table's default); if any tenant lacks room it is refused whole with
 * {@link RefusedException.Reason#QUOTA} and the time until that tenant has room again (the client's Retry-After),
 * and the others are not charged. Thread-safe (a lock per tenant).
 */
public final class TenantQuotas implements Admission {
  /** The bucket of tenants beyond max_tenants (and the tenant label of their metrics). */
  public static final String OTHER = "_other";
  /** The tenant of items without one (no header, attribute or table default). */
  public static final String NONE = "_none";

  private final QuotasConfig config;
  private final MeterRegistry registry;
  private final LongSupplier nanos;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final Map<String, Limit> overrides = new ConcurrentHashMap<>();
  private volatile double share = 1.0;

  public TenantQuotas(QuotasConfig config, MeterRegistry registry) {
    this(config, registry, System::nanoTime);
  }

  TenantQuotas(QuotasConfig config, MeterRegistry registry, LongSupplier nanos) {
    this.config = config;
    this.registry = registry;
    this.nanos = nanos;
  }

  /** One tenant's budget. */
  private final class Bucket {
    final String tenant;
    double items;
    double bytes;
    long last;
    final Map<Signal, Counter[]> counters = new java.util.EnumMap<>(Signal.class);

    Bucket(String tenant) {
      this.tenant = tenant;
      this.last = nanos.getAsLong();
      Limit l = limit(tenant);
      this.items = capacity(l.itemsPerSecond());
      this.bytes = capacity(l.bytesPerSecond());
      Gauge.builder("gateway.tenant.quota.items.rate", () -> limit(tenant).itemsPerSecond() * share)
          .description("Items per second the tenant may send to this member (its quota times this member's share)")
          .tag("tenant", tenant).register(registry);
      Gauge.builder("gateway.tenant.quota.bytes.rate", () -> limit(tenant).bytesPerSecond() * share)
          .description("Bytes per second the tenant may send to this member").tag("tenant", tenant)
          .register(registry);
    }

    private double capacity(long rate) {
      return rate * share * config.burstSeconds();
    }

    /**
     * Takes the cost, or returns the milliseconds until there is room for it (nothing taken). A request larger than
     * the whole burst is admitted on a full bucket and leaves it in debt — else it could never pass.
     */
    synchronized long take(long n, long b) {
      Limit l = limit(tenant);
      long now = nanos.getAsLong();
      double seconds = (now - last) / 1e9;
      last = now;
      double itemRate = l.itemsPerSecond() * share;
      double byteRate = l.bytesPerSecond() * share;
      double itemCap = capacity(l.itemsPerSecond());
      double byteCap = capacity(l.bytesPerSecond());
      items = Math.min(itemCap, items + itemRate * seconds);
      bytes = Math.min(byteCap, bytes + byteRate * seconds);
      long wait = 0;
      if (itemRate > 0 && items < Math.min(n, itemCap)) {
        wait = Math.max(wait, (long) Math.ceil((Math.min(n, itemCap) - items) / itemRate * 1000));
      }
      if (byteRate > 0 && bytes < Math.min(b, byteCap)) {
        wait = Math.max(wait, (long) Math.ceil((Math.min(b, byteCap) - bytes) / byteRate * 1000));
      }
      if (wait > 0) {
        return wait;
      }
      if (itemRate > 0) {
        items -= n;
      }
      if (byteRate > 0) {
        bytes -= b;
      }
      return 0;
    }

    synchronized void refund(long n, long b) {
      Limit l = limit(tenant);
      items = Math.min(capacity(l.itemsPerSecond()), items + (l.itemsPerSecond() > 0 ? n : 0));
      bytes = Math.min(capacity(l.bytesPerSecond()), bytes + (l.bytesPerSecond() > 0 ? b : 0));
    }

    Counter[] counters(Signal signal) {
      return counters.computeIfAbsent(signal, s -> new Counter[] {
          counter("gateway.tenant.items", "admitted", s), counter("gateway.tenant.items", "refused", s),
          counter("gateway.tenant.bytes", "admitted", s), counter("gateway.tenant.bytes", "refused", s)});
    }

    private Counter counter(String name, String result, Signal s) {
      return Counter.builder(name).description("Items (bytes) per tenant: admitted, or refused for its quota")
          .tag("tenant", tenant).tag("signal", s.id()).tag("result", result).register(registry);
    }
  }

  /** The tenant's rate: an override, else its own, else the default. */
  public Limit limit(String tenant) {
    Limit o = overrides.get(tenant);
    if (o != null) {
      return o;
    }
    Limit own = config.tenants().get(tenant);
    return own != null ? own : config.defaults();
  }

  /** Sets a tenant's rate until {@link #clearOverride}; returns the override it replaces (null: none). */
  public Limit override(String tenant, Limit limit) {
    return overrides.put(tenant, limit);
  }

  public void clearOverride(String tenant) {
    overrides.remove(tenant);
  }

  /** This member's share of every rate (its share of the cluster's ring; 1 standalone). */
  public void share(double share) {
    this.share = Math.max(0.0, Math.min(1.0, share));
  }

  private Bucket bucket(String tenant) {
    Bucket b = buckets.get(tenant);
    if (b != null) {
      return b;
    }
    if (buckets.size() >= config.maxTenants() && !config.tenants().containsKey(tenant)) {
      return buckets.computeIfAbsent(OTHER, Bucket::new);
    }
    return buckets.computeIfAbsent(tenant, Bucket::new);
  }

  @Override
  public Reservation reserve(Signal signal, Message request, int items, int bytes, RouteMatcher matcher,
                             String headerTenant) {
    Map<String, long[]> cost = cost(signal, request, items, bytes, matcher, headerTenant);
    List<Object[]> taken = new ArrayList<>(cost.size());
    for (Map.Entry<String, long[]> e : cost.entrySet()) {
      Bucket b = bucket(e.getKey());
      long[] c = e.getValue();
      long wait = b.take(c[0], c[1]);
      if (wait > 0) {
        for (Object[] t : taken) {
          long[] tc = (long[]) t[1];
          ((Bucket) t[0]).refund(tc[0], tc[1]);
        }
        Counter[] counters = b.counters(signal);
        counters[1].increment(c[0]);
        counters[3].increment(c[1]);
        Limit l = limit(b.tenant);
        throw new RefusedException(RefusedException.Reason.QUOTA, "tenant \"" + e.getKey() + "\" is over its quota ("
            + describe(l) + (share < 1 ? String.format(java.util.Locale.ROOT, ", %.0f%% of it on this member",
            share * 100) : "") + "); retry in " + wait + " ms", wait);
      }
      taken.add(new Object[] {b, c});
    }
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        for (Object[] t : taken) {
          long[] c = (long[]) t[1];
          Counter[] counters = ((Bucket) t[0]).counters(signal);
          counters[0].increment(c[0]);
          counters[2].increment(c[1]);
        }
        return Future.succeededFuture();
      }

      @Override
      public void release() {
        for (Object[] t : taken) {
          long[] c = (long[]) t[1];
          ((Bucket) t[0]).refund(c[0], c[1]);
        }
      }
    };
  }

  static String describe(Limit l) {
    List<String> parts = new ArrayList<>();
    if (l.itemsPerSecond() > 0) {
      parts.add(l.itemsPerSecond() + " items/s");
    }
    if (l.bytesPerSecond() > 0) {
      parts.add(l.bytesPerSecond() + " bytes/s");
    }
    return parts.isEmpty() ? "unlimited" : String.join(", ", parts);
  }

  /** Items and bytes per tenant (bytes shared out by items: a request's size is known only whole). */
  static Map<String, long[]> cost(Signal signal, Message request, int items, int bytes, RouteMatcher matcher,
                                  String headerTenant) {
    Map<String, long[]> out = new LinkedHashMap<>(2);
    if (headerTenant != null && !headerTenant.isEmpty()) {
      out.put(headerTenant, new long[] {items, bytes});
      return out;
    }
    boolean byAttribute = matcher != null && matcher.table().tenant().attribute() != null;
    if (!byAttribute) {
      String t = matcher == null ? null : matcher.tenant(null, List.of());
      out.put(t == null || t.isEmpty() ? NONE : t, new long[] {items, bytes});
      return out;
    }
    for (Message r : signal.resources(request)) {
      String t = matcher.tenant(null, attributes(r));
      long[] c = out.computeIfAbsent(t == null || t.isEmpty() ? NONE : t, k -> new long[2]);
      c[0] += items(r);
    }
    if (out.size() == 1) {
      out.values().iterator().next()[1] = bytes;
    } else {
      long left = bytes;
      int i = 0;
      for (long[] c : out.values()) {
        c[1] = ++i == out.size() ? left : items == 0 ? 0 : (long) bytes * c[0] / items;
        left -= c[1];
      }
    }
    return out;
  }

  private static List<KeyValue> attributes(Message r) {
    if (r instanceof ResourceSpans rs) {
      return rs.getResource().getAttributesList();
    }
    if (r instanceof ResourceMetrics rm) {
      return rm.getResource().getAttributesList();
    }
    return ((ResourceLogs) r).getResource().getAttributesList();
  }

  private static long items(Message r) {
    long n = 0;
    if (r instanceof ResourceSpans rs) {
      for (var ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    } else if (r instanceof ResourceMetrics rm) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          n += Signal.dataPointCount(m);
        }
      }
    } else {
      for (var sl : ((ResourceLogs) r).getScopeLogsList()) {
        n += sl.getLogRecordsCount();
      }
    }
    return n;
  }
}
