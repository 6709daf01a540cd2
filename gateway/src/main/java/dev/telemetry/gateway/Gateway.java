package dev.telemetry.gateway;

import dev.telemetry.gateway.admin.AdminServer;
import dev.telemetry.gateway.admin.Health;
import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.component.BuildContext;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.component.ComponentRegistry;
import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.config.PipelineConfig;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.pipeline.ExporterQueue;
import dev.telemetry.gateway.pipeline.ExporterVerticle;
import dev.telemetry.gateway.pipeline.MemoryGuard;
import dev.telemetry.gateway.pipeline.Pipeline;
import dev.telemetry.gateway.pipeline.Pipelines;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.processor.sampling.SamplingStage;
import dev.telemetry.gateway.processor.sampling.SamplerJournal;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import dev.telemetry.gateway.cluster.Cluster;
import dev.telemetry.gateway.receiver.Receiver;
import dev.telemetry.gateway.receiver.otlp.ReceiverLimits;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.launcher.JitSettle;
import dev.telemetry.gateway.otlp.Warmup;
import dev.telemetry.gateway.routing.Explainer;
import dev.telemetry.gateway.routing.RouteTables;
import dev.telemetry.gateway.routing.RoutesFile;
import dev.telemetry.gateway.routing.RoutingCatalog;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Wires a validated config into running components and owns their lifecycle. Start order: admin (liveness),
 * exporters, pipelines open, codecs and processors warmed, receivers warmed and bound, the JIT settled, ready. Stop
 * order: not ready, pipelines refuse (503/UNAVAILABLE), receivers close, queues drain within the shutdown timeout,
 * exporters stop, admin closes.
 */
public final class Gateway {
  private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
  /** Synthetic requests per signal before ready (50 spans, 50 records, 30 points each): 100 measured no better. */
  private static final int WARMUP_ROUNDS = 25;
  /** The longest the first start waits for the JIT compilers before it reports ready ({@link JitSettle}). */
  private static final java.time.Duration JIT_SETTLE_DEADLINE = java.time.Duration.ofSeconds(3);

  private final GatewayConfig config;
  private final ComponentRegistry components;
  /** What data on its way through holds, charged against memory_limit.charged_heap_percent of the heap. */
  private final HeapLedger heap;
  private final BuildContext context;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final Health health = new Health();
  private final Pipelines pipelines = new Pipelines();
  private final List<ExporterQueue> queues = new ArrayList<>();
  /** Stateless processors by name, shared by the pipelines (and routes) that use them. */
  private final Map<String, Processor> processors = new LinkedHashMap<>();
  /** The redaction processors among them: the profiles a route may pick. */
  private final Map<String, Processor> redactionProfiles = new LinkedHashMap<>();
  /** Resolves a route's exporter names to the traces pipeline's queues (restored sampler spans need it). */
  private java.util.function.Function<List<String>, dev.telemetry.gateway.processor.sampling.Destination>
      tracesDestinations = names -> dev.telemetry.gateway.processor.sampling.Destination.DEFAULT;
  /** Tail samplers by processor name: each is one policy set with its own buffer and budget. */
  private final Map<String, TailSampler> samplers = new LinkedHashMap<>();
  private final List<Receiver> receivers = new ArrayList<>();
  /** Connectors by name: taps of the pipeline they export from, receivers of the one they feed. */
  private final Map<String, Connector> connectors = new LinkedHashMap<>();
  private final AdminServer admin;
  private final RouteTables routeTables;
  private final RoutesFile routesFile;
  private final dev.telemetry.gateway.alerting.Alerting alerting;
  private final dev.telemetry.gateway.analytics.slo.SloService slos;
  private final dev.telemetry.gateway.analytics.anomaly.AnomalyService anomalies;
  private final dev.telemetry.gateway.analytics.forecast.ForecastService forecasts;
  private dev.telemetry.gateway.alerting.remediation.Remediations remediations;
  private final dev.telemetry.gateway.security.quota.TenantQuotas quotas;
  private final dev.telemetry.gateway.security.auth.Authenticator authenticator;
  private dev.telemetry.gateway.security.audit.AuditLog audit;
  private final MemoryGuard memoryGuard;
  private final Cluster cluster;
  /** The samplers as the pipelines see them: local ones, or in a cluster the ring-aware stages around them. */
  private final Map<String, SamplingStage> stages = new LinkedHashMap<>();

  public Gateway(GatewayConfig config, Vertx vertx, PrometheusMeterRegistry registry) {
    this(config, vertx, registry, null);
  }

  /** {@code cluster} (may be null: standalone) must have joined already; {@code vertx} is then its instance. */
  public Gateway(GatewayConfig config, Vertx vertx, PrometheusMeterRegistry registry, Cluster cluster) {
    this(config, vertx, registry, cluster, Components.BUILT_IN);
  }

  /** {@code components} builds what the config names (it must be the registry the config was loaded with). */
  public Gateway(GatewayConfig config, Vertx vertx, PrometheusMeterRegistry registry, Cluster cluster,
                 ComponentRegistry components) {
    this.config = config;
    this.components = components;
    this.vertx = vertx;
    this.registry = registry;
    this.heap = new HeapLedger(config.memoryLimit().chargedLimit(Runtime.getRuntime().maxMemory()), registry);
    this.context = new BuildContext(vertx, registry, heap, cluster != null ? cluster.nodeId()
        : java.util.Objects.requireNonNullElse(System.getenv("HOSTNAME"), "localhost") + ":"
            + config.admin().endpoint().port());
    this.cluster = cluster;
    this.admin = new AdminServer(vertx, config.admin(), registry, health);
    this.memoryGuard = config.memoryLimit().maxHeapPercent() == 0 ? null
        : MemoryGuard.ofMaxHeap(config.memoryLimit().maxHeapPercent(), registry);
    pipelines.guardMemory(memoryGuard);
    config.processors().forEach((name, pc) -> {
      if (!components.isSampler(pc)) {
        processors.put(name, components.createProcessor(context, pc));
        return;
      }
      // Without routing only the traces pipeline's sampler runs; with it, routes may pick any policy set.
      boolean used = config.routingConfig().isPresent() && config.pipeline(Signal.TRACES).isPresent()
          || config.pipeline(Signal.TRACES).map(p -> p.processors().contains(name)).orElse(false);
      if (used) {
        samplers.put(name, components.createSampler(context, pc));
      }
    });
    if (cluster == null) {
      journalSettings(config).ifPresent(js -> {
        samplers.forEach((name, sampler) -> sampler.journal(new SamplerJournal(new SamplerJournal.Settings(
            js.directory().resolve(name), js.fsync(), js.fsyncInterval(), js.segmentBytes()), name)));
        SamplerJournal.orphans(js.directory(), samplers.keySet()).forEach(d -> LOG.warning("tail sampler journal "
            + d + " belongs to a tail_sampling processor this configuration does not run and may hold acknowledged "
            + "spans, which are not replayed (configure a tail_sampling processor named \"" + d.getFileName()
            + "\" to replay them, or delete the directory)"));
      });
    }
    config.connectors().forEach((name, cc) -> connectors.put(name, components.createConnector(context, cc)));
    processors.forEach((n, p) -> {
      if (config.processors().get(n) instanceof RedactionProcessorConfig) {
        redactionProfiles.put(n, p);
      }
    });
    if (cluster != null) {
      admin.cluster(cluster::describe);
      health.requireQuorum(cluster::hasQuorum);
    }
    alerting = config.alertingConfig().map(ac -> new dev.telemetry.gateway.alerting.Alerting(vertx, ac, registry))
        .orElse(null);
    slos = config.slosConfig().map(sc -> cluster == null
        ? new dev.telemetry.gateway.analytics.slo.SloService(vertx, sc, sloCatalog(config), registry, alerting)
        : new dev.telemetry.gateway.analytics.slo.SloService(vertx, sc, sloCatalog(config), registry, alerting,
            cluster.nodeId(), name -> cluster.owns("slo:" + name))).orElse(null);
    authenticator = config.authConfig().map(ac -> new dev.telemetry.gateway.security.auth.Authenticator(ac,
        registry)).orElse(null);
    if (authenticator != null) {
      pipelines.authenticateBy(authenticator);
    }
    quotas = config.quotasConfig().map(qc -> new dev.telemetry.gateway.security.quota.TenantQuotas(qc, registry))
        .orElse(null);
    if (quotas != null) {
      pipelines.admitBy(quotas);
      if (cluster != null) {
        cluster.onShare(quotas::share);
      }
    }
    anomalies = config.anomaliesConfig().map(ac -> cluster == null
        ? new dev.telemetry.gateway.analytics.anomaly.AnomalyService(vertx, ac, registry, alerting)
        : new dev.telemetry.gateway.analytics.anomaly.AnomalyService(vertx, ac, registry, alerting,
            cluster.nodeId(), key -> cluster.owns(key))).orElse(null);
    forecasts = config.forecastsConfig().map(fc -> new dev.telemetry.gateway.analytics.forecast.ForecastService(
        vertx, fc, registry, alerting)).orElse(null);
    if (alerting != null) {
      admin.view("/api/v1/alerts", alerting::view);
    }
    if (slos != null) {
      admin.view("/api/v1/slos", slos::view);
    }
    if (anomalies != null) {
      admin.view("/api/v1/anomalies", anomalies::view);
    }
    if (forecasts != null) {
      admin.view("/api/v1/forecasts", forecasts::view);
    }
    if (config.routingConfig().isPresent()) {
      routeTables = new RouteTables(catalog(config), registry, config.routingConfig().get().history());
      if (config.remediationsConfig().isPresent()) {
        remediations = new dev.telemetry.gateway.alerting.remediation.Remediations(vertx,
            config.remediationsConfig().get(), routingControl(routeTables), quotaControl(quotas), registry);
        admin.view("/api/v1/remediations", remediations::view);
        admin.action("/api/v1/remediations/alertmanager", remediations::webhook);
        if (alerting != null) {
          dev.telemetry.gateway.alerting.remediation.Remediations r = remediations;
          alerting.addListener(a -> r.onAlert(a, "gateway"));
        }
      }
      routesFile = new RoutesFile(vertx, config.routingConfig().get(), routeTables);
      if (cluster != null) {
        cluster.shareRoutes(routeTables, routesFile);
      }
      Map<Signal, List<Processor>> chains = new EnumMap<>(Signal.class);
      Map<Signal, String> defaultSamplers = new EnumMap<>(Signal.class);
      for (PipelineConfig pc : config.pipelines()) {
        chains.put(pc.signal(), chain(pc));
        pc.processors().stream().filter(samplers::containsKey).findFirst()
            .ifPresent(n -> defaultSamplers.put(pc.signal(), n));
      }
      admin.routes(routeTables, routesFile, new Explainer(routeTables, chains, redactionProfiles,
          defaultSamplers));
      pipelines.routeBy(routeTables);
    } else {
      routeTables = null;
      routesFile = null;
    }
    dev.telemetry.gateway.console.SampleBook samples = config.admin().samples() == 0 || !config.admin().apiEnabled()
        ? null : new dev.telemetry.gateway.console.SampleBook(config.admin().samples(), 64 * 1024, 1000,
            java.time.Clock.systemUTC());
    if (samples != null) {
      pipelines.sampleInto(samples);
    }
    dev.telemetry.gateway.console.Console.mount(admin, vertx, new dev.telemetry.gateway.console.Topology(config,
        registry, cluster == null ? null : cluster::describe, java.time.Clock.systemUTC()), samples);
  }

  /**
   * Where tail samplers keep their write-ahead logs, when the traces pipeline has persistent queues (their data is
   * only as safe as the sampler in front of them): under the first persistent queue's directory, with the strictest
   * fsync policy among them. Empty when every traces queue is in memory.
   */
  static Optional<SamplerJournal.Settings> journalSettings(GatewayConfig config) {
    List<QueueConfig> persistent = config.pipeline(Signal.TRACES).map(p -> p.exporters().stream()
        .filter(config.exporters()::containsKey) // connectors have no queue
        .map(e -> config.exporters().get(e).queue()).filter(q -> q.type() == QueueConfig.Type.PERSISTENT).toList())
        .orElse(List.of());
    if (persistent.isEmpty()) {
      return Optional.empty();
    }
    QueueConfig.Fsync fsync = persistent.stream().map(QueueConfig::fsync).min(java.util.Comparator.naturalOrder())
        .orElseThrow(); // ALWAYS < INTERVAL < NEVER
    java.time.Duration interval = persistent.stream().map(QueueConfig::fsyncInterval)
        .min(java.util.Comparator.naturalOrder()).orElseThrow();
    QueueConfig first = persistent.get(0);
    return Optional.of(new SamplerJournal.Settings(first.directory().resolve("tail_sampling"), fsync, interval,
        first.segmentBytes()));
  }

  /** The names a routing table may use, from the gateway config. */
  public static RoutingCatalog catalog(GatewayConfig config) {
    Map<Signal, List<String>> exporters = new EnumMap<>(Signal.class);
    config.pipelines().forEach(p -> exporters.put(p.signal(), p.exporters().stream()
        .filter(config.exporters()::containsKey).toList())); // connectors are not route destinations
    Set<String> redaction = new HashSet<>();
    Set<String> sampling = new HashSet<>();
    config.processors().forEach((n, pc) -> {
      if (pc instanceof RedactionProcessorConfig) {
        redaction.add(n);
      } else if (pc instanceof TailSamplingProcessorConfig && config.pipeline(Signal.TRACES).isPresent()) {
        sampling.add(n);
      }
    });
    return new RoutingCatalog(exporters, redaction, sampling);
  }

  public Health health() {
    return health;
  }

  public AdminServer admin() {
    return admin;
  }

  /** The routing tables, when routing is configured. */
  public Optional<RouteTables> routeTables() {
    return Optional.ofNullable(routeTables);
  }

  /** Re-reads the routing file (SIGHUP); a no-op without routing. */
  public Future<Void> reloadRoutes(String source) {
    return routesFile == null ? Future.succeededFuture() : routesFile.reload(source).mapEmpty();
  }

  /** Reloads the SLO file now (SIGHUP). */
  public Future<Void> reloadSlos() {
    return slos == null ? Future.succeededFuture() : slos.reload();
  }

  /** What SLO files can read from this config: the span_metrics connectors' explicit bucket bounds. */
  public static dev.telemetry.gateway.analytics.slo.SloFileParser.Catalog sloCatalog(GatewayConfig config) {
    List<double[]> bounds = new ArrayList<>();
    config.connectors().values().forEach(c -> {
      if (c instanceof dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnectorConfig sm) {
        bounds.add(sm.histogram().isExponential() ? new double[0] : sm.histogram().bounds());
      }
    });
    return new dev.telemetry.gateway.analytics.slo.SloFileParser.Catalog(bounds);
  }

  /** What remediations may do to the routing table: {@link RouteTables}' own validated, audited operations. */
  private static dev.telemetry.gateway.alerting.remediation.RoutingControl routingControl(RouteTables tables) {
    return new dev.telemetry.gateway.alerting.remediation.RoutingControl() {
      @Override
      public io.vertx.core.json.JsonObject currentTable() {
        return tables.currentVersion().table().source();
      }

      @Override
      public int currentVersion() {
        return tables.currentVersion().number();
      }

      @Override
      public List<String> validate(io.vertx.core.json.JsonObject table) {
        try {
          tables.validate(table);
          return List.of();
        } catch (dev.telemetry.gateway.routing.RoutingTableException e) {
          return e.problems();
        }
      }

      @Override
      public int apply(io.vertx.core.json.JsonObject table, String source) throws Exception {
        return tables.apply(table, source).number();
      }

      @Override
      public int rollback(int version, String source) throws Exception {
        return tables.rollback(java.util.Optional.of(version), source).number();
      }
    };
  }

  /** What remediations may do to tenant quotas (nothing without quotas: such actions are rejected at start). */
  private static dev.telemetry.gateway.alerting.remediation.QuotaControl quotaControl(
      dev.telemetry.gateway.security.quota.TenantQuotas quotas) {
    if (quotas == null) {
      return null;
    }
    return new dev.telemetry.gateway.alerting.remediation.QuotaControl() {
      @Override
      public long[] limit(String tenant) {
        var l = quotas.limit(tenant);
        return new long[] {l.itemsPerSecond(), l.bytesPerSecond()};
      }

      @Override
      public void set(String tenant, long itemsPerSecond, long bytesPerSecond) {
        quotas.override(tenant, new dev.telemetry.gateway.config.QuotasConfig.Limit(itemsPerSecond,
            bytesPerSecond));
      }

      @Override
      public void reset(String tenant) {
        quotas.clearOverride(tenant);
      }
    };
  }

  /** The analytics (SLOs, anomalies, forecasts) read the metrics pipeline like a connector that emits nothing. */
  private static Connector metricsTap(
      java.util.function.Consumer<io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest> reader) {
    return new Connector() {
      @Override
      public void take(com.google.protobuf.Message request, String tenant) {
        reader.accept((io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest) request);
      }

      @Override
      public Future<Void> start(dev.telemetry.gateway.pipeline.TelemetryConsumer downstream) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> stop() {
        return Future.succeededFuture();
      }
    };
  }

  public Future<Void> start() {
    return openAudit()
        .compose(v -> admin.start())
        .compose(v -> authenticator == null ? Future.succeededFuture() : authenticator.start(vertx))
        .compose(v -> startProcessors())
        .compose(v -> routesFile == null ? Future.succeededFuture() : routesFile.start())
        .compose(v -> alerting == null ? Future.succeededFuture() : alerting.start())
        .compose(v -> slos == null ? Future.succeededFuture() : slos.start())
        .compose(v -> anomalies == null ? Future.succeededFuture() : anomalies.start())
        .compose(v -> forecasts == null ? Future.succeededFuture() : forecasts.start())
        .compose(v -> remediations == null ? Future.succeededFuture() : remediations.start())
        .compose(v -> startPipelines())
        .compose(v -> Future.all(samplers.values().stream().map(s -> s.restore(tracesDestinations)).toList()))
        .compose(v -> {
          if (memoryGuard != null) {
            memoryGuard.start(vertx, config.memoryLimit().checkInterval().toMillis());
          }
          pipelines.open();
          return warmCodecsAndPipelines();
        })
        .compose(v -> startReceivers())
        .compose(v -> JitSettle.await(vertx, JIT_SETTLE_DEADLINE)
            .onSuccess(waited -> LOG.fine(() -> "the JIT compilers were quiet " + waited.toMillis()
                + " ms after the receivers bound"))
            .<Void>mapEmpty())
        .compose(v -> cluster == null ? Future.succeededFuture() : cluster.ready())
        .onSuccess(v -> {
          health.markReady();
          LOG.info("gateway ready: " + config.pipelines().size() + " pipeline(s), " + queues.size()
              + " exporter queue(s), admin on " + config.admin().endpoint()
              + (routeTables == null ? "" : ", routing table version " + routeTables.currentVersion().number()));
        });
  }

  /**
   * The OTLP codecs, and each pipeline's processors and sampler through throwaway copies ({@link Pipeline#warmUp}),
   * run over synthetic requests (on a worker: interpreted at first) before the receivers bind, so the first clients
   * do not wait for class loading and the interpreter; see {@link Warmup}. Nothing synthetic is counted or kept.
   */
  private Future<Void> warmCodecsAndPipelines() {
    return vertx.executeBlocking(() -> {
      long t0 = System.nanoTime();
      long codecs = Warmup.codecs(WARMUP_ROUNDS, ReceiverLimits.DEFAULTS.items());
      long processed = 0;
      for (Pipeline p : pipelines.all()) {
        processed += p.warmUp(WARMUP_ROUNDS);
      }
      long items = processed;
      LOG.fine(() -> "warmed the OTLP codecs with " + codecs + " synthetic items and the pipelines' processors "
          + "and samplers with " + items + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      return null;
    }, false);
  }

  /** The audit log first: everything after it (the first routing table, SLO file) is recorded. */
  private Future<Void> openAudit() {
    if (config.auditFileConfig().isEmpty()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      audit = new dev.telemetry.gateway.security.audit.AuditLog(config.auditFileConfig().get(), registry);
      admin.auditTo(audit);
      if (authenticator != null) {
        authenticator.auditTo(audit);
      }
      audit.record("gateway", "gateway", "start", "ok", "configuration loaded");
      return null;
    }, false).mapEmpty();
  }

  private Future<Void> startProcessors() {
    List<Future<?>> started = new ArrayList<>();
    processors.values().forEach(p -> started.add(p.start()));
    samplers.values().forEach(s -> started.add(vertx.deployVerticle(s)));
    return Future.all(started).compose(v -> cluster == null ? Future.succeededFuture() : cluster.start(samplers, heap))
        .onSuccess(v -> samplers.forEach((n, s) -> stages.put(n, cluster == null ? s : cluster.stage(s))))
        .mapEmpty();
  }

  /** A pipeline's stateless processors, in order (its tail sampler, if any, is its last stage). */
  private List<Processor> chain(PipelineConfig pc) {
    return pc.processors().stream().map(processors::get).filter(java.util.Objects::nonNull).toList();
  }

  private Future<Void> startPipelines() {
    List<Future<?>> started = new ArrayList<>();
    for (PipelineConfig pc : config.pipelines()) {
      List<ExporterVerticle> verticles = new ArrayList<>();
      List<Future<String>> deployments = new ArrayList<>();
      for (String name : pc.exporters()) {
        ExporterConfig ec = config.exporters().get(name);
        if (ec == null) {
          continue; // a connector: a tap, not a queue
        }
        ExporterVerticle v = new ExporterVerticle(ctx -> new ExporterQueue(name, pc.signal(),
            components.createExporter(context, ec, pc.signal()), ctx, ec.queue(), ec.batch(), ec.retry(), registry,
            heap));
        verticles.add(v);
        deployments.add(vertx.deployVerticle(v));
      }
      started.add(Future.all(deployments).onSuccess(x -> {
        List<ExporterQueue> qs = verticles.stream().map(ExporterVerticle::queue).toList();
        queues.addAll(qs);
        SamplingStage own = pc.processors().stream().map(stages::get).filter(java.util.Objects::nonNull)
            .findFirst().orElse(null);
        Pipeline pipeline = new Pipeline(pc.signal(), chain(pc), own, qs, redactionProfiles,
            pc.signal() == Signal.TRACES ? stages : Map.of());
        List<Connector> taps = pc.exporters().stream().filter(connectors::containsKey).map(connectors::get).toList();
        // In a cluster, pairing connectors see a sampled trace's spans on its owner (where sampling sends them).
        boolean onOwner = cluster != null && own != null;
        List<Connector> local = new ArrayList<>(taps.stream().filter(c -> !(onOwner && c.pairsByTrace())).toList());
        if (slos != null && pc.signal() == Signal.METRICS) {
          local.add(metricsTap(slos::take));
        }
        if (anomalies != null && pc.signal() == Signal.METRICS) {
          local.add(metricsTap(anomalies::take));
        }
        if (forecasts != null && pc.signal() == Signal.METRICS && !config.forecastsConfig().get().costBudgets()
            .isEmpty()) {
          local.add(metricsTap(forecasts::take));
        }
        pipeline.tap(local);
        if (onOwner) {
          cluster.tapOnOwner(taps.stream().filter(Connector::pairsByTrace).toList());
        }
        if (pc.signal() == Signal.TRACES) {
          taps.stream().map(Connector::samplerDecisions).filter(java.util.Objects::nonNull)
              .forEach(l -> samplers.values().forEach(s -> s.addDecisionListener(l)));
        }
        if (pc.signal() == Signal.TRACES) {
          // Every sampler releases kept spans without a route destination into the traces pipeline's queues.
          samplers.values().forEach(s -> s.downstream(pipeline.downstream()));
          tracesDestinations = pipeline::destination;
          if (cluster != null) {
            cluster.acceptForwards(pipeline::destination);
          }
        }
        pipelines.add(pipeline, new HashSet<>(pc.receivers()));
      }));
    }
    return Future.all(started).mapEmpty();
  }

  private Future<Void> startReceivers() {
    Set<String> used = new LinkedHashSet<>();
    config.pipelines().forEach(p -> used.addAll(p.receivers()));
    used.removeAll(connectors.keySet());
    List<Future<Void>> bound = new ArrayList<>();
    connectors.values().forEach(c -> bound.add(c.start(pipelines)));
    List<Receiver> created = new ArrayList<>();
    for (String name : used) {
      created.add(components.createReceiver(context, config.receivers().get(name),
          cluster == null ? pipelines : cluster.intercepting(pipelines)));
    }
    receivers.addAll(created);
    // One after another: each warm-up has the machine's cores to itself.
    Future<Void> warm = Future.succeededFuture();
    for (Receiver r : created) {
      warm = warm.compose(v -> r.warmUp());
    }
    return warm.compose(v -> {
      for (Receiver r : created) {
        bound.add(r.start());
      }
      return Future.all(bound).mapEmpty();
    });
  }

  private static long left(long deadlineNanos) {
    return Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  /** Graceful stop; completes when queues are drained or the shutdown timeout has passed. */
  public Future<Void> stop() {
    health.markStopping();
    if (routesFile != null) {
      routesFile.stop();
    }
    if (memoryGuard != null) {
      memoryGuard.stop(vertx);
    }
    // Connectors send what they derived last, while the pipelines still take it.
    return Future.join(connectors.values().stream().map(Connector::stop).toList()).transform(x -> stopData())
        .transform(x -> {
          if (authenticator != null) {
            authenticator.stop(vertx);
          }
          return slos == null ? Future.succeededFuture() : slos.stop();
        })
        .transform(x -> anomalies == null ? Future.succeededFuture() : anomalies.stop())
        .transform(x -> forecasts == null ? Future.succeededFuture() : forecasts.stop())
        .transform(x -> alerting == null ? Future.succeededFuture() : alerting.stop())
        .transform(x -> {
          if (audit != null) {
            audit.record("gateway", "gateway", "stop", "ok", "stopped");
            audit.close();
          }
          return Future.succeededFuture();
        });
  }

  private Future<Void> stopData() {
    pipelines.close();
    List<Future<Void>> closing = new ArrayList<>();
    for (Receiver r : receivers) {
      closing.add(r.stop());
    }
    // One deadline for the samplers' hand-over and the queues' drain together: shutdown_timeout is what an
    // operator waits for, and what terminationGracePeriodSeconds has to cover.
    long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
    return Future.join(closing)
        .transform(x -> cluster == null ? Future.succeededFuture() : cluster.leave())
        .transform(x -> Future.join(samplers.values().stream().map(sm -> sm.flush(left(deadline) / 2)).toList()))
        .transform(x -> {
          List<Future<Void>> drains = new ArrayList<>();
          for (ExporterQueue q : queues) {
            drains.add(q.drainAndStop(left(deadline)));
          }
          return Future.join(drains);
        })
        .transform(x -> Future.join(processors.values().stream().map(Processor::stop).toList()))
        .transform(x -> cluster == null ? Future.succeededFuture() : cluster.stop())
        .transform(x -> admin.stop())
        .onComplete(x -> logStopped())
        .mapEmpty();
  }

  /** The last line an operator reads: whether anything acknowledged was lost, and what waits for the next start. */
  private void logStopped() {
    List<String> lost = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    for (ExporterQueue q : queues) {
      ExporterQueue.ShutdownOutcome o = q.shutdownOutcome();
      String what = o.exporter() + " (" + o.signal().id() + "): ";
      if (o.lost() > 0) {
        lost.add(what + o.lost() + " " + o.signal().itemName() + (o.persistent()
            ? " (the write-ahead log could not be written)" : " (memory queue, backend unreachable until the "
            + "shutdown timeout)"));
      }
      if (o.kept() > 0) {
        kept.add(what + o.kept() + " " + o.signal().itemName());
      }
    }
    samplers.forEach((name, sampler) -> {
      if (sampler.journaledAtShutdown() > 0) {
        kept.add("tail sampler " + name + ": " + sampler.journaledAtShutdown() + " spans");
      }
    });
    String keptText = kept.isEmpty() ? "" : "; kept for the next start: " + String.join(", ", kept);
    if (lost.isEmpty()) {
      LOG.info("gateway stopped; nothing acknowledged was lost" + keptText);
    } else {
      LOG.warning("gateway stopped; acknowledged and lost at shutdown: " + String.join(", ", lost) + keptText
          + " (gateway_exporter_items_failed_total{reason=\"shutdown\"})");
    }
  }
}
