package dev.telemetry.gateway.connector.servicegraph;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.connector.HistogramCells;
import dev.telemetry.gateway.connector.HistogramSpec;
import dev.telemetry.gateway.connector.SeriesTable;
import dev.telemetry.gateway.otlp.Attributes;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Service graph edges from spans, with the Collector servicegraph connector's metric names: a CLIENT (or PRODUCER)
 * span and the SERVER (or CONSUMER) span whose parent it is make one request from the client's service to the
 * server's. Edges are labelled {@code client}, {@code server}, {@code connection_type} ({@code messaging_system},
 * {@code database}, {@code virtual_node}, or absent for a direct call) and {@code client_<d>}/{@code server_<d>} for
 * each configured dimension.
 *
 * <p>Halves wait in a store for their other half up to {@code waitNanos}. A client half that expires alone becomes an
 * edge to a <em>virtual node</em> named by its first present peer attribute (peer.service, db.namespace, …: a
 * database or service nobody instrumented); a root server span is an edge from the virtual node {@code user}. Other
 * lone halves are counted as unpaired. The store holds at most {@code maxPending} halves; beyond, spans are counted
 * as dropped. Thread-safe: the store is split in stripes by trace ID (both halves of an edge share one), each guarded
 * by its own lock.
 */
public final class ServiceGraph {
  public static final String REQUESTS = "traces_service_graph_request_total";
  public static final String FAILED = "traces_service_graph_request_failed_total";
  public static final String SERVER_SECONDS = "traces_service_graph_request_server_seconds";
  public static final String CLIENT_SECONDS = "traces_service_graph_request_client_seconds";
  /** The Collector's default bounds, in seconds. */
  public static final double[] DEFAULT_BOUNDS_S = {0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1,
      1.4, 2, 5, 10, 15};
  public static final List<String> DEFAULT_PEER_ATTRIBUTES = List.of("peer.service", "db.namespace", "db.name",
      "db.system.name", "db.system", "messaging.destination.name", "messaging.system", "server.address");
  static final String USER = "user";
  /** A power of two. */
  private static final int STRIPES = 32;

  private final List<String> dimensions;
  private final List<String> peerAttributes;
  private final long waitNanos;
  private final int maxPending;
  private final HistogramSpec histogram;
  private final Resource resource;
  private final SeriesTable<Edge> edges;
  private final Stripe[] stripes = new Stripe[STRIPES];
  private final AtomicInteger pending = new AtomicInteger();
  private final LongAdder droppedSpans = new LongAdder();
  private final LongAdder unpairedClient = new LongAdder();
  private final LongAdder unpairedServer = new LongAdder();
  private final LongAdder overflowRequests = new LongAdder();

  public ServiceGraph(List<String> dimensions, List<String> peerAttributes, long waitNanos, int maxPending,
                      HistogramSpec histogram, int cardinalityLimit, long expiryNanos, Resource resource) {
    this.dimensions = List.copyOf(dimensions);
    this.peerAttributes = List.copyOf(peerAttributes);
    this.waitNanos = waitNanos;
    this.maxPending = maxPending;
    this.histogram = histogram;
    this.resource = resource;
    List<String> names = new ArrayList<>(List.of("client", "server", "connection_type"));
    dimensions.forEach(d -> names.add("client_" + d));
    dimensions.forEach(d -> names.add("server_" + d));
    this.edges = new SeriesTable<>(names, cardinalityLimit, expiryNanos, labels -> new Edge(labels, histogram));
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** One edge's counts; guarded by itself. */
  private static final class Edge extends SeriesTable.Series {
    long requests;
    long failed;
    final HistogramCells server;
    final HistogramCells client;

    Edge(SeriesTable.Labels labels, HistogramSpec histogram) {
      super(labels);
      server = histogram.cells();
      client = histogram.cells();
    }
  }

  /** Which end of a call a span is. */
  private enum Side { CLIENT, SERVER }

  /** A span waiting for its other half. {@code peer} and {@code peerType}: the virtual node it names, if any. */
  private record Half(Side side, String service, String[] dims, double seconds, boolean failed, boolean messaging,
                      String database, String peer, long deadlineNanos) {
  }

  /**
   * Both halves of an edge are filed under the trace ID and the client span's ID (the server span's parent), read
   * as longs: cheap to hash and compare, and small while waiting.
   */
  private record Key(long traceHigh, long traceLow, long spanId) {
    static Key of(ByteString traceId, ByteString spanId) {
      return new Key(word(traceId, 0), word(traceId, 8), word(spanId, 0));
    }

    /** Eight bytes from {@code offset}, big-endian; bytes past the end read as 0 (IDs are validated upstream). */
    private static long word(ByteString b, int offset) {
      long w = 0;
      for (int i = offset; i < offset + 8; i++) {
        w = w << 8 | (i < b.size() ? b.byteAt(i) & 0xFF : 0);
      }
      return w;
    }

    int stripe() {
      long h = traceHigh ^ traceLow;
      return (int) (h ^ h >>> 32) & (STRIPES - 1);
    }
  }

  private static final class Stripe {
    final LinkedHashMap<Key, Half> halves = new LinkedHashMap<>();
  }

  /** Files every CLIENT/PRODUCER and SERVER/CONSUMER span of the request; pairs complete edges at once. */
  public void add(ExportTraceServiceRequest request) {
    long now = System.nanoTime();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      List<KeyValue> resourceAttrs = rs.getResource().getAttributesList();
      String service = Attributes.label(resourceAttrs, "service.name");
      if (service == null) {
        service = "unknown_service";
      }
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          add(s, service, resourceAttrs, now);
        }
      }
    }
  }

  private void add(Span s, String service, List<KeyValue> resourceAttrs, long now) {
    Span.SpanKind kind = s.getKind();
    Side side = switch (kind) {
      case SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER -> Side.CLIENT;
      case SPAN_KIND_SERVER, SPAN_KIND_CONSUMER -> Side.SERVER;
      default -> null;
    };
    if (side == null) {
      return;
    }
    double seconds = Math.max(0, s.getEndTimeUnixNano() - s.getStartTimeUnixNano()) / 1e9;
    boolean failed = s.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR;
    String[] dims = dims(s, resourceAttrs);
    boolean messaging = kind == Span.SpanKind.SPAN_KIND_PRODUCER || kind == Span.SpanKind.SPAN_KIND_CONSUMER;
    if (side == Side.SERVER && s.getParentSpanId().isEmpty()) {
      // A root server span: called by something uninstrumented — the "user" virtual node.
      String[] both = new String[dimensions.size() * 2];
      System.arraycopy(dims, 0, both, dimensions.size(), dimensions.size());
      record(USER, service, "virtual_node", both, -1, seconds, failed);
      return;
    }
    Half half;
    Key key;
    if (side == Side.CLIENT) {
      List<KeyValue> attrs = s.getAttributesList();
      String database = Attributes.label(attrs, "db.system.name", "db.system");
      half = new Half(side, service, dims, seconds, failed, messaging, database, peer(attrs), now + waitNanos);
      key = Key.of(s.getTraceId(), s.getSpanId());
    } else {
      half = new Half(side, service, dims, seconds, failed, messaging, null, null, now + waitNanos);
      key = Key.of(s.getTraceId(), s.getParentSpanId());
    }
    Stripe stripe = stripes[key.stripe()];
    Half other;
    synchronized (stripe) {
      other = stripe.halves.get(key);
      if (other != null && other.side() != side) {
        stripe.halves.remove(key);
      } else if (other != null) {
        other = null; // the same side twice (a retried span): keep the first
      } else if (pending.incrementAndGet() > maxPending) {
        pending.decrementAndGet();
        droppedSpans.increment();
        return;
      } else {
        stripe.halves.put(key, half);
        return;
      }
    }
    if (other == null) {
      return;
    }
    pending.decrementAndGet();
    Half client = side == Side.CLIENT ? half : other;
    Half server = side == Side.SERVER ? half : other;
    String type = client.messaging() || server.messaging() ? "messaging_system"
        : client.database() != null ? "database" : null;
    String[] both = new String[dimensions.size() * 2];
    System.arraycopy(client.dims(), 0, both, 0, dimensions.size());
    System.arraycopy(server.dims(), 0, both, dimensions.size(), dimensions.size());
    record(client.service(), server.service(), type, both, client.seconds(), server.seconds(),
        client.failed() || server.failed());
  }

  private String peer(List<KeyValue> attrs) {
    for (String a : peerAttributes) {
      String v = Attributes.label(attrs, a);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static final String[] NO_DIMENSIONS = new String[0];

  private String[] dims(Span s, List<KeyValue> resourceAttrs) {
    if (dimensions.isEmpty()) {
      return NO_DIMENSIONS;
    }
    String[] out = new String[dimensions.size()];
    for (int i = 0; i < out.length; i++) {
      String v = Attributes.label(s.getAttributesList(), dimensions.get(i));
      out[i] = v != null ? v : Attributes.label(resourceAttrs, dimensions.get(i));
    }
    return out;
  }

  /**
   * One request on an edge. {@code dims}: client then server dimension values; a negative duration: that side was
   * not instrumented (a virtual node), its histogram is left alone.
   */
  private void record(String client, String server, String type, String[] dims, double clientSeconds,
                      double serverSeconds, boolean failed) {
    String[] labels = new String[3 + 2 * dimensions.size()];
    labels[0] = client;
    labels[1] = server;
    labels[2] = type;
    System.arraycopy(dims, 0, labels, 3, dims.length);
    Edge e = edges.get(labels);
    if (e.isOverflow()) {
      overflowRequests.increment();
    }
    e.touch(System.nanoTime());
    synchronized (e) {
      e.requests++;
      if (failed) {
        e.failed++;
      }
      if (clientSeconds >= 0) {
        e.client.record(clientSeconds);
      }
      if (serverSeconds >= 0) {
        e.server.record(serverSeconds);
      }
    }
  }

  /** A lone side's dimension values at its place among client then server dimensions. */
  private String[] oneSide(Half h) {
    String[] both = new String[dimensions.size() * 2];
    System.arraycopy(h.dims(), 0, both, h.side() == Side.CLIENT ? 0 : dimensions.size(), dimensions.size());
    return both;
  }

  /**
   * Settles halves whose wait is over: a client span naming a peer becomes an edge to that virtual node, the rest are
   * counted unpaired. Called periodically from one thread.
   */
  public void expire() {
    long now = System.nanoTime();
    List<Half> due = new ArrayList<>();
    for (Stripe stripe : stripes) {
      synchronized (stripe) {
        Iterator<Half> it = stripe.halves.values().iterator();
        while (it.hasNext()) {
          Half h = it.next();
          if (now - h.deadlineNanos() < 0) {
            break; // filed in arrival order with one wait: the rest are younger
          }
          it.remove();
          due.add(h);
        }
      }
    }
    pending.addAndGet(-due.size());
    for (Half h : due) {
      if (h.side() == Side.CLIENT && h.peer() != null) {
        String type = h.messaging() ? "messaging_system" : h.database() != null ? "database" : "virtual_node";
        record(h.service(), h.peer(), type, oneSide(h), h.seconds(), -1, h.failed());
      } else if (h.side() == Side.CLIENT) {
        unpairedClient.increment();
      } else {
        unpairedServer.increment();
      }
    }
  }

  /** The cumulative edge metrics now (series idle past the expiry are reported a last time, then forgotten). */
  public ExportMetricsServiceRequest snapshot() {
    long nowUnix = System.currentTimeMillis() * 1_000_000L;
    Sum.Builder requests = counter();
    Sum.Builder failed = counter();
    HistogramSpec.Points server = histogram.points();
    HistogramSpec.Points client = histogram.points();
    edges.sweep(e -> {
      List<KeyValue> attrs = edges.attributes(e);
      synchronized (e) {
        requests.addDataPoints(point(attrs, e.requests, e.startUnixNanos(), nowUnix));
        failed.addDataPoints(point(attrs, e.failed, e.startUnixNanos(), nowUnix));
        if (e.server.count() > 0) {
          server.add(e.server, attrs, e.startUnixNanos(), nowUnix, null);
        }
        if (e.client.count() > 0) {
          client.add(e.client, attrs, e.startUnixNanos(), nowUnix, null);
        }
      }
    });
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder().setScope(InstrumentationScope.newBuilder()
        .setName("telemetry-gateway/service_graph"));
    if (requests.getDataPointsCount() > 0) {
      scope.addMetrics(Metric.newBuilder().setName(REQUESTS).setUnit("{request}")
          .setDescription("Requests between two services (an edge of the service graph)").setSum(requests));
      scope.addMetrics(Metric.newBuilder().setName(FAILED).setUnit("{request}")
          .setDescription("Requests between two services where either side failed").setSum(failed));
    }
    if (!server.isEmpty()) {
      scope.addMetrics(server.metric(SERVER_SECONDS, "s", "Request durations seen by the server"));
    }
    if (!client.isEmpty()) {
      scope.addMetrics(client.metric(CLIENT_SECONDS, "s", "Request durations seen by the client"));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(resource).addScopeMetrics(scope)).build();
  }

  private static Sum.Builder counter() {
    return Sum.newBuilder().setIsMonotonic(true)
        .setAggregationTemporality(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
  }

  private static NumberDataPoint point(List<KeyValue> attrs, long value, long start, long now) {
    return NumberDataPoint.newBuilder().addAllAttributes(attrs).setAsInt(value).setStartTimeUnixNano(start)
        .setTimeUnixNano(now).build();
  }

  /** Spans waiting for their other half. */
  public int pending() {
    return pending.get();
  }

  /** Spans not filed because the store was full. */
  public long droppedSpans() {
    return droppedSpans.sum();
  }

  public long unpairedClientSpans() {
    return unpairedClient.sum();
  }

  public long unpairedServerSpans() {
    return unpairedServer.sum();
  }

  /** Requests counted on the overflow edge (the cardinality limit was reached). */
  public long overflowRequests() {
    return overflowRequests.sum();
  }

  public int edgeCount() {
    return edges.size();
  }

  public long expiredEdges() {
    return edges.expired();
  }
}
