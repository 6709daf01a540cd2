package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.backpressure.HeapLedger;
import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import dev.telemetry.gateway.config.ClusterConfig;
import dev.telemetry.gateway.config.HostPort;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.SamplingStage;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Clustered mode: this member's place in the Hazelcast cluster, the trace-ID ring, and the forwarding of spans to
 * the members that own them. Lifecycle: {@link #join} (before anything else: the Vert.x instance is clustered),
 * {@link #start} with the local samplers, {@link #ready} once the pipelines run (this member goes on the ring),
 * {@link #leave} when stopping (off the ring, buffered traces handed over, forwards drained).
 */
public final class Cluster {
  /** The gRPC metadata that marks a call as a forward between members (the otlp_grpc transport). */
  public static final String FORWARD_HEADER = "x-gateway-forward";

  private static final Logger LOG = Logger.getLogger(Cluster.class.getName());

  /**
   * After a ring change, how long new traces wait at least before their decision: a leaving or rebalancing member's
   * hand-over travels after the others switched rings (a sync round and a forward).
   */
  static final long HANDOVER_HOLD_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);

  private final ClusterConfig config;
  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final MeterRegistry registry;
  private final Membership membership;
  private final StallWatch stallWatch;
  private final Map<String, TailSampler> samplers = new LinkedHashMap<>();
  private final OwnerTaps ownerTaps = new OwnerTaps();
  private ForwardTransport transport;
  private Forwarder forwarder;
  private ForwardReceiver receiver;
  private ReplicaStore replicas;
  private ClusterRoutes routes;

  private Cluster(ClusterConfig config, Vertx vertx, HazelcastClusterManager manager, MeterRegistry registry) {
    this.config = config;
    this.vertx = vertx;
    this.manager = manager;
    this.registry = registry;
    this.membership = new Membership(manager, config.virtualNodes(), registry);
    this.stallWatch = new StallWatch(membership, config.failureTimeout(), registry);
    io.micrometer.core.instrument.Gauge.builder("gateway.cluster.quorum", () -> hasQuorum() ? 1 : 0)
        .description("1 while this member's ring has at least cluster.min_members ready members (it takes traces)")
        .register(registry);
  }

  /**
   * Joins the cluster: a clustered Vert.x on Hazelcast configured from {@code config}. {@code otlpGrpc} is the
   * address other members forward to with the otlp_grpc transport (null otherwise).
   */
  public static Future<Cluster> join(ClusterConfig config, HostPort otlpGrpc, VertxOptions options,
                                     VertxMetricsFactory metrics, MeterRegistry registry) {
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast(config));
    JsonObject metadata = new JsonObject().put(EventBusTransport.SNAPPY_KEY, true);
    if (otlpGrpc != null) {
      metadata.put(OtlpGrpcTransport.ADDRESS_KEY, config.advertisedHost() + ":" + otlpGrpc.port());
    }
    EventBusOptions bus = new EventBusOptions().setHost(config.eventBus().host())
        .setPort(config.eventBus().port()).setClusterPublicHost(config.advertisedHost())
        .setClusterNodeMetadata(metadata);
    if (config.eventBusTls() != null) {
      // Mutual TLS between members: each presents its certificate and trusts only the cluster's CA.
      bus.setSsl(true).setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
              .setCertPath(config.eventBusTls().certFile().toString())
              .setKeyPath(config.eventBusTls().keyFile().toString()))
          .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(
              config.eventBusTls().clientCaFile().toString()))
          .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED)
          .setEnabledSecureTransportProtocols(config.eventBusTls().protocols());
    }
    options.setEventBusOptions(bus);
    var builder = Vertx.builder().with(options).withClusterManager(manager);
    if (metrics != null) {
      builder = builder.withMetrics(metrics);
    }
    return builder.buildClustered().map(v -> {
      LOG.info("joined cluster \"" + config.name() + "\" as member " + manager.getNodeId() + " ("
          + manager.getNodes().size() + " member(s) now)");
      return new Cluster(config, v, manager, registry);
    });
  }

  /** Hazelcast's config: Vert.x's own data structures plus our network, discovery and failure detection. */
  static Config hazelcast(ClusterConfig c) {
    Config hz = new ClasspathXmlConfig("default-cluster.xml");
    hz.setClusterName(c.name());
    // Our shutdown hook decides when to leave: after the hand-over, not when the JVM starts exiting.
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "jdk");
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(Math.max(2,
        c.failureTimeout().toSeconds())));
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(c.bind().port()).setPortAutoIncrement(false);
    if (!c.bind().host().equals("0.0.0.0")) {
      hz.setProperty("hazelcast.socket.bind.any", "false");
      net.getInterfaces().setEnabled(true).addInterface(c.bind().host());
    }
    if (c.advertiseHost() != null) {
      net.setPublicAddress(c.advertiseHost() + ":" + c.bind().port());
    }
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (c.discovery() instanceof ClusterConfig.TcpDiscovery tcp) {
      join.getTcpIpConfig().setEnabled(true).setMembers(tcp.members()).setConnectionTimeoutSeconds(2);
    } else if (c.discovery() instanceof ClusterConfig.KubernetesDiscovery k8s) {
      var kc = join.getKubernetesConfig().setEnabled(true);
      if (k8s.namespace() != null) {
        kc.setProperty("namespace", k8s.namespace());
      }
      if (k8s.serviceName() != null) {
        kc.setProperty("service-name", k8s.serviceName());
      }
      if (k8s.serviceDns() != null) {
        kc.setProperty("service-dns", k8s.serviceDns());
      }
    }
    return hz;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Membership membership() {
    return membership;
  }

  /** This member's node ID (known once joined). */
  public String nodeId() {
    return manager.getNodeId();
  }

  /** Starts membership and forwarding for these samplers (by processor name). */
  /** {@code heap}: what the forwarder queues is charged there. */
  public Future<Void> start(Map<String, TailSampler> localSamplers, HeapLedger heap) {
    samplers.putAll(localSamplers);
    long timeout = config.forwarding().timeout().toMillis();
    return vertx.deployVerticle(membership).compose(id -> vertx.deployVerticle(new SubscriptionRepair(manager,
        registry))).compose(id -> {
      transport = config.forwarding().transport() == ClusterConfig.Transport.OTLP_GRPC
          ? new OtlpGrpcTransport(vertx, manager, config.forwarding().token(),
              config.forwarding().compression() == ClusterConfig.Compression.GZIP, timeout,
              config.forwarding().tls() ? config.forwarding().clientTls() : null)
          : new EventBusTransport(vertx, manager, membership.self(), config.forwarding().compression(), timeout);
      int copies = config.replicationFactor() - 1;
      forwarder = new Forwarder(config.forwarding(), copies, transport, membership, registry, heap);
      replicas = new ReplicaStore(membership, replicaBudget(), replicaHold(), heap, registry);
      receiver = new ForwardReceiver(membership, forwarder, replicas, samplers, ownerTaps, registry);
      replicas.adopter(receiver::adopt);
      forwarder.local(receiver);
      announceDecisions(copies);
      return vertx.deployVerticle(forwarder).compose(x -> vertx.deployVerticle(replicas));
    }).compose(id -> transport.start(receiver)).onSuccess(v -> {
      membership.onChange(this::ringChanged);
      stallWatch.start();
    });
  }

  /** Replicas are bounded like what they copy: the samplers' memory budgets. */
  private long replicaBudget() {
    return samplers.values().stream().mapToLong(TailSampler::memoryBudgetBytes).sum();
  }

  /**
   * How long a copy is kept without its owner's word: until the owner must have decided (decision_wait, the hand-
   * over hold and the adopt grace) and announced a kept one (its export's time), plus the time a crash takes to be
   * noticed, with slack for a loaded member.
   */
  private long replicaHold() {
    long wait = samplers.values().stream().mapToLong(s -> s.decisionWait().toNanos()).max().orElse(0);
    return 2 * wait + HANDOVER_HOLD_NANOS + ForwardReceiver.ADOPT_GRACE_NANOS + DecisionAnnouncer.KEPT_DELAY_NANOS
        + config.failureTimeout().toNanos() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
  }

  /** Each sampler's decisions release the trace's copies on its successors (and here). */
  private void announceDecisions(int copies) {
    Counter sent = Counter
        .builder("gateway.cluster.replica.releases.sent").description("Decided trace IDs announced to the members "
            + "holding their replicas").register(registry);
    Counter dropped = Counter
        .builder("gateway.cluster.replica.releases.dropped").description("Decision announcements not sent "
            + "(too many waiting for one member); those replicas expire instead").register(registry);
    if (copies <= 0) {
      return;
    }
    for (TailSampler s : samplers.values()) {
      DecisionAnnouncer a = new DecisionAnnouncer(vertx, membership, copies, replicas, sent, dropped);
      s.addDecisionListener((id, kept, spans) -> a.decided(id, kept));
    }
  }

  /** The sampling stage for a local sampler: owned traces stay, others go to their owners. */
  public SamplingStage stage(TailSampler sampler) {
    return new ClusteredSampling(sampler, membership, forwarder, replicas, config.replicationFactor() - 1,
        ownerTaps);
  }

  /**
   * Connectors that pair spans of a trace (the service graph): fed on each trace's owner with the spans this member
   * takes as owner, instead of on the member that received them.
   */
  public void tapOnOwner(List<dev.telemetry.gateway.connector.Connector> connectors) {
    ownerTaps.set(connectors);
  }

  /**
   * True when this member owns {@code key} on the ring (or no ring is formed yet): the one member that acts for a
   * cluster-wide thing, e.g. sends an SLO's alerts.
   */
  public boolean owns(String key) {
    HashRing ring = membership.ring();
    return ring.isEmpty() || membership.self().equals(ring.owner(com.google.protobuf.ByteString.copyFromUtf8(key)));
  }

  /** Lets forwarded spans in: {@code destinations} resolves exporter names in this member's traces pipeline. */
  public void acceptForwards(Function<List<String>, Destination> destinations) {
    receiver.destinations(destinations);
  }

  /**
   * Wraps the pipelines: forwards arriving at the OTLP receiver (otlp_grpc transport) reach the cluster, and client
   * traces are refused (NOT_READY) while this member has no quorum ({@link #hasQuorum}).
   */
  public TelemetryConsumer intercepting(TelemetryConsumer pipelines) {
    OtlpGrpcTransport grpc = transport instanceof OtlpGrpcTransport g ? g : null;
    return new TelemetryConsumer() {
      @Override
      public boolean accepts(String name, Signal signal) {
        return pipelines.accepts(name, signal);
      }

      /** A member forwarding spans proves itself with the cluster token; every other request authenticates. */
      @Override
      public dev.telemetry.gateway.pipeline.RequestHeaders authenticate(String name, Signal signal,
          dev.telemetry.gateway.pipeline.RequestHeaders headers) {
        if (signal == Signal.TRACES && grpc != null && grpc.isPeer(headers)) {
          return headers;
        }
        return pipelines.authenticate(name, signal, headers);
      }

      @Override
      public Future<Void> consume(String name, Signal signal, com.google.protobuf.Message request, int items,
                                  int bytes, dev.telemetry.gateway.pipeline.RequestHeaders headers) {
        if (signal == Signal.TRACES && grpc != null) {
          Future<Void> forwarded = grpc.intercept(headers, (ExportTraceServiceRequest) request);
          if (forwarded != null) {
            return forwarded; // a peer's forward: its sender checked the ring
          }
        }
        if (signal == Signal.TRACES && !hasQuorum()) {
          return Future.failedFuture(new dev.telemetry.gateway.backpressure.RefusedException(
              dev.telemetry.gateway.backpressure.RefusedException.Reason.NOT_READY, stallWatch.rejoining()
                  ? "cluster: this member is rejoining the others after standing still longer than failure_timeout;"
                      + " send to another member or retry later"
                  : "cluster: this member sees " + membership.ring().members().size() + " ready member(s), fewer "
                      + "than cluster.min_members (" + config.minMembers() + "): partitioned from the others; send "
                      + "to another member or retry later"));
        }
        return pipelines.consume(name, signal, request, items, bytes, headers);
      }
    };
  }

  /**
   * Shares the routing table with the other members: one version number cluster-wide, a change on any member
   * applies on all. Call before the routes file is first read.
   */
  public void shareRoutes(dev.telemetry.gateway.routing.RouteTables tables,
                          dev.telemetry.gateway.routing.RoutesFile file) {
    ClusterRoutes routes = new ClusterRoutes(vertx, manager.getNodeId(), tables, file);
    tables.replicateWith(routes);
    routes.start();
    this.routes = routes;
  }

  /** Puts this member on the ring; call once its pipelines run. */
  public Future<Void> ready() {
    return membership.ready();
  }

  /**
   * Leaves gracefully: off every member's ring first, then every buffered undecided trace goes to its new owner,
   * then waits (up to leave_timeout) until nothing waits to be forwarded. Completes in any case; a timeout is logged
   * with what is left, which the caller's shutdown then decides locally.
   */
  public Future<Void> leave() {
    long timeout = config.leaveTimeout().toMillis();
    long started = System.nanoTime();
    return membership.leave(timeout)
        .compose(v -> handOffAll(membership.ring()))
        .compose(v -> forwarder.drained(Math.max(1, timeout - (System.nanoTime() - started) / 1_000_000)))
        .map(drained -> {
          if (!drained) {
            LOG.warning("cluster leave: " + forwarder.queuedBytes() + " bytes of spans were not forwarded within "
                + "leave_timeout; they are decided on this member");
          } else {
            LOG.info("cluster leave: buffered traces handed over in "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
          }
          return null;
        });
  }

  private final List<java.util.function.DoubleConsumer> shareListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Is told this member's share of the ring whenever it changes (rate budgets: samplers', tenant quotas). */
  public void onShare(java.util.function.DoubleConsumer listener) {
    shareListeners.add(listener);
  }

  /** After the ring changed: forwards re-split, traces owned elsewhere handed over, rate budgets re-shared. */
  /** Audit trail of membership changes. */
  static final java.util.logging.Logger AUDIT = java.util.logging.Logger.getLogger("dev.telemetry.gateway.audit.cluster");

  private void ringChanged(HashRing ring) {
    AUDIT.info("ring members now " + ring.members() + " (this member: " + membership.self() + ")");
    forwarder.ringChanged(ring);
    for (TailSampler s : samplers.values()) {
      // A trace this member now owns may get fresh spans before the previous owner's hand-over of its older ones.
      s.holdNewTraces(HANDOVER_HOLD_NANOS);
    }
    replicas.ringChanged(ring, membership::leftGracefully);
    handOffAll(ring);
  }

  private Future<Void> handOffAll(HashRing ring) {
    String self = membership.self();
    double share = ring.isEmpty() ? 1.0 : ring.members().contains(self) ? ring.share(self)
        : 1.0 / ring.members().size();
    List<Future<?>> moved = new ArrayList<>();
    for (java.util.function.DoubleConsumer l : shareListeners) {
      l.accept(Math.min(1.0, share));
    }
    for (TailSampler s : samplers.values()) {
      s.budgetShare(Math.min(1.0, share));
      if (ring.isEmpty()) {
        continue;
      }
      moved.add(s.handOff(id -> self.equals(ring.owner(id))).onSuccess(handoffs -> {
        for (TailSampler.Handoff h : handoffs) {
          TraceSplitter.split(h.request(), ring).forEach((owner, part) -> forwarder.handOver(owner,
              new ForwardReceiver.Part(s.name(), h.destination().exporters(), part.toByteString(),
                  ForwardReceiver.Kind.HANDOFF, 0,
                  TraceSplitter.spanCount(part))));
        }
      }));
    }
    return Future.join(moved).mapEmpty();
  }

  /** Spans this member forwarded to owners so far (fresh traffic, not hand-overs). */
  public double forwardedSpans() {
    return forwarder == null ? 0 : forwarder.sentSpans();
  }

  /**
   * True while this member's ring has at least {@code cluster.min_members} ready members and it is not rejoining
   * after a stall ({@link StallWatch}). Otherwise it is on the minority side of a split, or alone after a pause:
   * taking traces would decide them apart from the majority's.
   */
  public boolean hasQuorum() {
    return membership.ring().members().size() >= config.minMembers() && !stallWatch.rejoining();
  }

  /** For the admin API: members, this member, shares, forwarding state. */
  public JsonObject describe() {
    HashRing ring = membership.ring();
    JsonArray members = new JsonArray();
    for (String m : ring.members()) {
      members.add(new JsonObject().put("id", m).put("share", ring.share(m)).put("self", m.equals(membership.self())));
    }
    return new JsonObject().put("name", config.name()).put("self", membership.self())
        .put("leaving", membership.leaving()).put("cluster_nodes", manager.getNodes().size())
        .put("ring", members).put("transport", config.forwarding().transport().name().toLowerCase())
        .put("forward_queue_bytes", forwarder == null ? 0 : forwarder.queuedBytes())
        .put("replication_factor", config.replicationFactor())
        .put("min_members", config.minMembers()).put("quorum", hasQuorum())
        .put("rejoining", stallWatch.rejoining())
        .put("replica_spans", replicas == null ? 0 : replicas.heldSpans());
  }

  /** Stops forwarding; the caller closes the Vert.x instance, which leaves the Hazelcast cluster. */
  public Future<Void> stop() {
    stallWatch.stop();
    if (routes != null) {
      routes.stop();
    }
    return transport == null ? Future.succeededFuture() : transport.stop();
  }
}
