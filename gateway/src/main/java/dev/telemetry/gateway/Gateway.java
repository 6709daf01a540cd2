package dev.telemetry.gateway;

import dev.telemetry.gateway.admin.AdminServer;
import dev.telemetry.gateway.admin.Health;
import dev.telemetry.gateway.config.EnrichmentProcessorConfig;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.config.OtlpReceiverConfig;
import dev.telemetry.gateway.config.PipelineConfig;
import dev.telemetry.gateway.config.RedactionProcessorConfig;
import dev.telemetry.gateway.config.TailSamplingProcessorConfig;
import dev.telemetry.gateway.config.ReceiverConfig;
import dev.telemetry.gateway.exporter.ExporterFactory;
import dev.telemetry.gateway.pipeline.ExporterQueue;
import dev.telemetry.gateway.pipeline.ExporterVerticle;
import dev.telemetry.gateway.pipeline.Pipeline;
import dev.telemetry.gateway.pipeline.Pipelines;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessor;
import dev.telemetry.gateway.processor.redaction.RedactionProcessor;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import dev.telemetry.gateway.receiver.Receiver;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiver;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Wires a validated config into running components and owns their lifecycle. Start order: admin (liveness),
 * exporters, pipelines open, receivers bind, ready. Stop order: not ready, pipelines refuse (503/UNAVAILABLE),
 * receivers close, queues drain within the shutdown timeout, exporters stop, admin closes.
 */
public final class Gateway {
  private static final Logger LOG = Logger.getLogger(Gateway.class.getName());

  private final GatewayConfig config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final Health health = new Health();
  private final Pipelines pipelines = new Pipelines();
  private final List<ExporterQueue> queues = new ArrayList<>();
  private final java.util.Map<String, Processor> processors = new java.util.LinkedHashMap<>();
  private final java.util.Map<dev.telemetry.gateway.otlp.Signal, TailSampler> samplers =
      new java.util.EnumMap<>(dev.telemetry.gateway.otlp.Signal.class);
  private final List<Receiver> receivers = new ArrayList<>();
  private final AdminServer admin;

  public Gateway(GatewayConfig config, Vertx vertx, PrometheusMeterRegistry registry) {
    this.config = config;
    this.vertx = vertx;
    this.registry = registry;
    this.admin = new AdminServer(vertx, config.admin(), registry, health);
  }

  public Health health() {
    return health;
  }

  public AdminServer admin() {
    return admin;
  }

  public Future<Void> start() {
    return admin.start()
        .compose(v -> startProcessors())
        .compose(v -> startPipelines())
        .compose(v -> {
          pipelines.open();
          return startReceivers();
        })
        .onSuccess(v -> {
          health.markReady();
          LOG.info("gateway ready: " + config.pipelines().size() + " pipeline(s), " + queues.size()
              + " exporter queue(s), admin on " + config.admin().endpoint());
        });
  }

  /** One instance per configured processor, shared by the pipelines that list it. */
  private Future<Void> startProcessors() {
    List<Future<Void>> started = new ArrayList<>();
    config.processors().forEach((name, pc) -> {
      if (pc instanceof TailSamplingProcessorConfig) {
        return; // stateful: one per pipeline, created with it
      }
      Processor p;
      if (pc instanceof EnrichmentProcessorConfig c) {
        p = new EnrichmentProcessor(vertx, c, registry);
      } else if (pc instanceof RedactionProcessorConfig c) {
        p = new RedactionProcessor(c, registry);
      } else {
        throw new IllegalStateException("no processor for type " + pc.type());
      }
      processors.put(name, p);
      started.add(p.start());
    });
    return Future.all(started).mapEmpty();
  }

  private Future<Void> startPipelines() {
    List<Future<?>> started = new ArrayList<>();
    for (PipelineConfig pc : config.pipelines()) {
      for (String name : pc.processors()) {
        if (config.processors().get(name) instanceof TailSamplingProcessorConfig tc) {
          TailSampler sampler = new TailSampler(tc, registry);
          samplers.put(pc.signal(), sampler);
          started.add(vertx.deployVerticle(sampler));
        }
      }
    }
    for (PipelineConfig pc : config.pipelines()) {
      List<ExporterVerticle> verticles = new ArrayList<>();
      List<Future<String>> deployments = new ArrayList<>();
      for (String name : pc.exporters()) {
        ExporterConfig ec = config.exporters().get(name);
        ExporterVerticle v = new ExporterVerticle(ctx -> new ExporterQueue(name, pc.signal(),
            ExporterFactory.create(vertx, ec, pc.signal(), registry), ctx, ec.queue(), ec.batch(), ec.retry(), registry));
        verticles.add(v);
        deployments.add(vertx.deployVerticle(v));
      }
      started.add(Future.all(deployments).onSuccess(x -> {
        List<ExporterQueue> qs = verticles.stream().map(ExporterVerticle::queue).toList();
        queues.addAll(qs);
        List<Processor> chain = pc.processors().stream().map(processors::get).filter(java.util.Objects::nonNull)
            .toList();
        pipelines.add(new Pipeline(pc.signal(), chain, samplers.get(pc.signal()), qs), new HashSet<>(pc.receivers()));
      }));
    }
    return Future.all(started).mapEmpty();
  }

  private Future<Void> startReceivers() {
    Set<String> used = new LinkedHashSet<>();
    config.pipelines().forEach(p -> used.addAll(p.receivers()));
    List<Future<Void>> bound = new ArrayList<>();
    int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
    for (String name : used) {
      ReceiverConfig rc = config.receivers().get(name);
      if (!(rc instanceof OtlpReceiverConfig c)) {
        return Future.failedFuture("no receiver for type " + rc.type());
      }
      Receiver r = new OtlpReceiver(vertx, c, pipelines, registry, instances);
      receivers.add(r);
      bound.add(r.start());
    }
    return Future.all(bound).mapEmpty();
  }

  /** Graceful stop; completes when queues are drained or the shutdown timeout has passed. */
  public Future<Void> stop() {
    health.markStopping();
    pipelines.close();
    List<Future<Void>> closing = new ArrayList<>();
    for (Receiver r : receivers) {
      closing.add(r.stop());
    }
    long timeout = config.shutdownTimeout().toMillis();
    return Future.join(closing)
        .transform(x -> Future.join(samplers.values().stream().map(sm -> sm.flush(timeout)).toList()))
        .transform(x -> {
          List<Future<Void>> drains = new ArrayList<>();
          for (ExporterQueue q : queues) {
            drains.add(q.drainAndStop(timeout));
          }
          return Future.join(drains);
        })
        .transform(x -> Future.join(processors.values().stream().map(Processor::stop).toList()))
        .transform(x -> admin.stop())
        .onComplete(x -> LOG.info("gateway stopped"))
        .mapEmpty();
  }
}
