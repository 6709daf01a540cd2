package dev.telemetry.gateway.connector.servicegraph;

import com.google.protobuf.Message;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.connector.MetricsEmitter;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The service_graph connector: pairs spans into edges ({@link ServiceGraph}) and sends the cumulative edge metrics
 * into the metrics pipeline every flush interval. In a cluster it is fed on each trace's owner, so both halves of an
 * edge meet even when they reached different members.
 */
public final class ServiceGraphConnector implements Connector {
  private final Vertx vertx;
  private final ServiceGraph graph;
  private final MetricsEmitter emitter;
  private long expiryTimer = -1;

  public ServiceGraphConnector(Vertx vertx, ServiceGraphConnectorConfig config, MeterRegistry registry,
                               String instance) {
    this.vertx = vertx;
    this.graph = new ServiceGraph(config.dimensions(), config.peerAttributes(), config.waitTime().toNanos(),
        config.maxPending(), config.histogram(), config.cardinalityLimit(), config.expiry().toNanos(),
        Connector.resource(instance));
    this.emitter = new MetricsEmitter(vertx, config.name(), config.flushInterval(), graph::snapshot);
    String c = config.name();
    Gauge.builder("gateway.connector.service_graph.pending.spans", graph, ServiceGraph::pending)
        .description("Spans waiting for the other half of their edge (bounded by max_pending)").tag("connector", c)
        .register(registry);
    FunctionCounter.builder("gateway.connector.service_graph.dropped.spans", graph, ServiceGraph::droppedSpans)
        .description("Spans not paired because max_pending spans were already waiting").tag("connector", c)
        .register(registry);
    FunctionCounter.builder("gateway.connector.service_graph.unpaired.spans", graph,
        ServiceGraph::unpairedClientSpans).description("Spans whose other half did not arrive within the wait "
            + "(and that name no virtual peer)").tag("connector", c).tag("side", "client").register(registry);
    FunctionCounter.builder("gateway.connector.service_graph.unpaired.spans", graph,
        ServiceGraph::unpairedServerSpans).description("Spans whose other half did not arrive within the wait "
            + "(and that name no virtual peer)").tag("connector", c).tag("side", "server").register(registry);
    FunctionCounter.builder("gateway.connector.service_graph.overflow.requests", graph,
        ServiceGraph::overflowRequests).description("Requests counted on the overflow edge (the cardinality limit "
            + "was reached)").tag("connector", c).register(registry);
    Gauge.builder("gateway.connector.service_graph.edges", graph, ServiceGraph::edgeCount)
        .description("Edges tracked (bounded by cardinality_limit)").tag("connector", c).register(registry);
    FunctionCounter.builder("gateway.connector.service_graph.expired.edges", graph, ServiceGraph::expiredEdges)
        .description("Edges forgotten after the expiry without new requests").tag("connector", c)
        .register(registry);
  }

  @Override
  public void take(Message request, String tenant) {
    graph.add((ExportTraceServiceRequest) request);
  }

  @Override
  public boolean pairsByTrace() {
    return true;
  }

  @Override
  public Future<Void> start(TelemetryConsumer downstream) {
    expiryTimer = vertx.setPeriodic(1000, id -> graph.expire());
    return emitter.start(downstream);
  }

  @Override
  public Future<Void> stop() {
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    return emitter.stop();
  }
}
