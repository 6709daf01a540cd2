package dev.telemetry.gateway;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.cluster.Cluster;
import dev.telemetry.gateway.config.ClusterConfig;
import dev.telemetry.gateway.config.ConfigException;
import dev.telemetry.gateway.config.HostPort;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.logging.Logging;
import dev.telemetry.gateway.logging.ShutdownAwareLogManager;
import dev.telemetry.gateway.routing.RoutesFile;
import dev.telemetry.gateway.routing.RoutingTableException;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Command line entry point: {@code java -jar telemetry-gateway.jar [--config FILE] [--check]}.
 * Exit codes: 0 normal stop, 1 failed to start (e.g. a port in use), 2 invalid configuration or arguments.
 */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    // Must precede the first logger: see ShutdownAwareLogManager.
    System.setProperty("java.util.logging.manager", ShutdownAwareLogManager.class.getName());
    Path configFile = Path.of("config/gateway.json");
    boolean checkOnly = false;
    if (args.length > 0 && args[0].equals("slo-rules")) {
      sloRules(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("jvm-options")) {
      jvmOptions(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("audit-verify")) {
      auditVerify(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config", "-c" -> {
          if (i + 1 >= args.length) {
            usage("--config needs a file");
          }
          configFile = Path.of(args[++i]);
        }
        case "--check" -> checkOnly = true;
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> usage("unknown argument: " + args[i]);
      }
    }

    GatewayConfig config;
    try {
      config = Components.configLoader().load(configFile);
    } catch (ConfigException e) {
      invalid("configuration", configFile, e.problems());
      return;
    }
    if (config.routingConfig().isPresent()) {
      Path routes = config.routingConfig().get().file();
      try {
        RoutesFile.check(routes, Gateway.catalog(config));
      } catch (RoutingTableException e) {
        invalid("routing table", routes, e.problems());
        return;
      }
    }
    if (config.slosConfig().isPresent()) {
      Path slos = config.slosConfig().get().file();
      try {
        dev.telemetry.gateway.analytics.slo.SloService.check(slos, Gateway.sloCatalog(config));
      } catch (dev.telemetry.gateway.analytics.slo.SloFileParser.SloFileException e) {
        invalid("SLO file", slos, e.problems());
        return;
      }
    }
    if (checkOnly) {
      System.out.println("configuration OK: " + configFile);
      return;
    }
    Logging.configure(config.logging());
    Logger log = Logger.getLogger(Main.class.getName());

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true));
    Vertx vertx;
    Cluster cluster = null;
    if (config.clusterConfig().isPresent()) {
      ClusterConfig cc = config.clusterConfig().get();
      HostPort otlpGrpc = cc.forwarding().receiver() == null ? null
          : ((OtlpReceiverConfig) config.receivers().get(cc.forwarding().receiver())).grpc();
      try {
        cluster = Cluster.join(cc, otlpGrpc, options, new MicrometerMetricsFactory(registry), registry)
            .await(120, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.log(Level.SEVERE, "could not join the cluster: " + e.getMessage(), e);
        System.exit(1);
        return;
      }
      vertx = cluster.vertx();
    } else {
      vertx = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    }

    Gateway gateway = new Gateway(config, vertx, registry, cluster);
    try {
      gateway.start().await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.log(Level.SEVERE, "gateway failed to start: " + e.getMessage(), e);
      closeQuietly(vertx, log);
      System.exit(1);
      return;
    }
    if (config.routingConfig().isPresent() || config.slosConfig().isPresent()) {
      onSighup(() -> {
        gateway.reloadRoutes("sighup").onFailure(e -> log.warning(
            "SIGHUP: routing table not reloaded, the current one stays in use:\n" + e.getMessage()));
        gateway.reloadSlos().onFailure(e -> log.warning(
            "SIGHUP: SLO file not reloaded, the current SLOs stay in use:\n" + e.getMessage()));
      }, log);
    }
    long stopWait = config.shutdownTimeout().toMillis() + 10_000;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutdown requested; draining queues (up to " + config.shutdownTimeout().toSeconds() + "s)");
      try {
        gateway.stop().await(stopWait, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        log.warning("shutdown did not complete within " + stopWait / 1000 + "s (shutdown_timeout + 10s); exiting "
            + "with what is still undelivered counted in gateway_exporter_items_failed_total{reason=\"shutdown\"}"
            + " (persistent queues keep theirs)");
      } catch (Exception e) {
        log.log(Level.WARNING, "shutdown did not complete cleanly: " + e, e);
      }
      closeQuietly(vertx, log);
      ShutdownAwareLogManager.gatewayStopped();
    }, "gateway-shutdown"));
  }

  /** Lists every problem of an invalid file and exits with code 2. */
  private static void invalid(String what, Path file, java.util.List<String> problems) {
    System.err.println("invalid " + what + " in " + file + ":");
    for (String p : problems) {
      System.err.println("  " + p);
    }
    System.exit(2);
  }

  /** SIGHUP reloads the routing table, as operators expect of a daemon. Not available on every JVM/OS. */
  private static void onSighup(Runnable action, Logger log) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> action.run());
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      log.warning("SIGHUP cannot be handled here (" + e.getMessage() + "); reload routes via the admin API");
    }
  }

  private static void closeQuietly(Vertx vertx, Logger log) {
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.log(Level.WARNING, "vertx did not close cleanly: " + e.getMessage());
    }
  }

  private static final String USAGE = """
      usage: java -jar telemetry-gateway.jar [--config FILE] [--check]
             java -jar telemetry-gateway.jar slo-rules --slos FILE [--config FILE]
             java -jar telemetry-gateway.jar audit-verify FILE
             java -jar telemetry-gateway.jar jvm-options [--config FILE]
        --config FILE  gateway config (JSON); default config/gateway.json
        --check        validate the config (and its routing table and SLO file) and exit (0 valid, 2 invalid)
        slo-rules      print the Prometheus recording and alerting rules for an SLO file (the rules the gateway
                       evaluates in-stream); --config gives the span_metrics buckets latency SLIs must use
        audit-verify   check an audit log's hash chain: exit 0 when intact, 1 naming the first broken line
        jvm-options    print the JVM options that keep the process under its memory limit (GATEWAY_MEMORY_LIMIT,
                       else memory_limit.process, else the cgroup's, else 1.5GiB); the launcher uses them""";

  /** {@code jvm-options [--config FILE]}: one line of JVM options on stdout, what they come from on stderr. */
  private static void jvmOptions(String[] args) {
    long configBytes = 0;
    if (args.length == 2 && (args[0].equals("--config") || args[0].equals("-c"))) {
      Path file = Path.of(args[1]);
      try {
        configBytes = Components.configLoader().load(file).memoryLimit().processBytes();
      } catch (ConfigException e) {
        invalid("configuration", file, e.problems());
        return;
      }
    } else if (args.length != 0) {
      usage("jvm-options takes only --config FILE");
      return;
    }
    dev.telemetry.gateway.launcher.JvmOptions.Limit limit;
    try {
      limit = dev.telemetry.gateway.launcher.JvmOptions.limit(System.getenv("GATEWAY_MEMORY_LIMIT"), configBytes,
          dev.telemetry.gateway.launcher.JvmOptions.cgroupLimit());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    List<String> options = dev.telemetry.gateway.launcher.JvmOptions.options(limit.bytes());
    System.err.println("memory limit " + limit.bytes() / (1024 * 1024) + " MiB (" + limit.source() + "): "
        + String.join(" ", options));
    System.out.println(String.join(" ", options));
  }

  /** {@code audit-verify FILE}: checks the audit log's chain; exit 0 intact, 1 broken, 2 unreadable. */
  private static void auditVerify(String[] args) {
    if (args.length != 1) {
      usage("audit-verify needs exactly one FILE");
      return;
    }
    Path file = Path.of(args[0]);
    try {
      dev.telemetry.gateway.security.audit.AuditChain.Verdict v =
          dev.telemetry.gateway.security.audit.AuditChain.verify(file);
      if (v.intact()) {
        System.out.println(file + ": " + v.entries() + " entries, chain intact (last hash " + v.lastHash() + ")");
        System.exit(0);
      }
      System.out.println(file + ": chain broken at line " + v.brokenLine() + ": " + v.problem() + " ("
          + v.entries() + " entries before it are intact)");
      System.exit(1);
    } catch (java.io.IOException e) {
      System.err.println(file + ": cannot read: " + e.getMessage());
      System.exit(2);
    }
  }

  /** {@code slo-rules --slos FILE [--config FILE]}: the Prometheus rules for an SLO file, on stdout. */
  private static void sloRules(String[] args) {
    Path slos = null;
    Path config = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--slos" -> slos = i + 1 < args.length ? Path.of(args[++i]) : null;
        case "--config", "-c" -> config = i + 1 < args.length ? Path.of(args[++i]) : null;
        default -> usage("unknown argument to slo-rules: " + args[i]);
      }
    }
    if (slos == null) {
      usage("slo-rules needs --slos FILE");
      return;
    }
    dev.telemetry.gateway.analytics.slo.SloFileParser.Catalog catalog;
    if (config != null) {
      try {
        catalog = Gateway.sloCatalog(Components.configLoader().load(config));
      } catch (ConfigException e) {
        invalid("configuration", config, e.problems());
        return;
      }
    } else {
      // Without a config: the span_metrics defaults.
      catalog = new dev.telemetry.gateway.analytics.slo.SloFileParser.Catalog(java.util.List.of(
          dev.telemetry.gateway.connector.spanmetrics.SpanMetrics.DEFAULT_BOUNDS_MS));
    }
    try {
      System.out.print(dev.telemetry.gateway.analytics.slo.PrometheusRules.render(
          dev.telemetry.gateway.analytics.slo.SloService.check(slos, catalog), slos.toString()));
    } catch (dev.telemetry.gateway.analytics.slo.SloFileParser.SloFileException e) {
      invalid("SLO file", slos, e.problems());
    }
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println(USAGE);
    System.exit(2);
  }
}
