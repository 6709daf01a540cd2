package dev.telemetry.gateway.connector.genai;

import com.google.protobuf.Message;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.connector.MetricsEmitter;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.logging.Logger;

/**
 * The gen_ai_metrics connector: {@link GenAiUsage} fed by the traces pipeline (model-call spans) and, when also listed
 * among the metrics pipeline's exporters, by incoming token usage metrics; the price table re-read when its file
 * changes (an invalid new table is reported with its JSON paths and the current one stays); month-to-date cost kept
 * in the state file at every flush and at stop.
 */
public final class GenAiMetricsConnector implements Connector {
  private static final Logger LOG = Logger.getLogger(GenAiMetricsConnector.class.getName());
  /** Audit trail of price table versions (the audit log records them). */
  static final Logger AUDIT = Logger.getLogger("dev.telemetry.gateway.audit.prices");

  private final Vertx vertx;
  private final GenAiMetricsConnectorConfig config;
  private final GenAiUsage usage;
  private final MetricsEmitter emitter;
  private final Counter reloadsOk;
  private final Counter reloadsFailed;
  private volatile String priceText;
  private long reloadTimer = -1;

  public GenAiMetricsConnector(Vertx vertx, GenAiMetricsConnectorConfig config, MeterRegistry registry,
                               String instance) {
    this.vertx = vertx;
    this.config = config;
    this.usage = new GenAiUsage(config.allocation(), config.tenantAttribute(), config.cardinalityLimit(),
        config.expiry().toNanos(), Connector.resource(instance), model -> LOG.warning("gen_ai_metrics "
            + config.name() + ": no price for " + model + " in " + config.priceTable() + "; its tokens are counted "
            + "as unpriced (add the model to the price table)"));
    this.emitter = new MetricsEmitter(vertx, config.name(), config.flushInterval(), this::snapshot);
    String c = config.name();
    FunctionCounter.builder("gateway.connector.gen_ai_metrics.calls", usage, GenAiUsage::calls)
        .description("Model-call spans seen").tag("connector", c).register(registry);
    FunctionCounter.builder("gateway.connector.gen_ai_metrics.tokens", usage, GenAiUsage::pricedTokens)
        .description("Tokens priced from the price table, or not (no price for the provider and model)")
        .tag("connector", c).tag("priced", "true").register(registry);
    FunctionCounter.builder("gateway.connector.gen_ai_metrics.tokens", usage, GenAiUsage::unpricedTokens)
        .description("Tokens priced from the price table, or not (no price for the provider and model)")
        .tag("connector", c).tag("priced", "false").register(registry);
    Gauge.builder("gateway.connector.gen_ai_metrics.price_table.entries", usage, u -> u.prices().size())
        .description("Prices in the loaded price table").tag("connector", c).register(registry);
    reloadsOk = Counter.builder("gateway.connector.gen_ai_metrics.price_table.reloads").tag("connector", c)
        .tag("outcome", "ok").description("Price table loads").register(registry);
    reloadsFailed = Counter.builder("gateway.connector.gen_ai_metrics.price_table.reloads").tag("connector", c)
        .tag("outcome", "failed").description("Price table loads").register(registry);
  }

  @Override
  public void take(Message request, String tenant) {
    if (request instanceof ExportTraceServiceRequest traces) {
      usage.add(traces, tenant);
    } else if (request instanceof ExportMetricsServiceRequest metrics) {
      usage.add(metrics, tenant);
    }
  }

  @Override
  public Future<Void> start(TelemetryConsumer downstream) {
    Future<Void> prices = config.priceTable() == null ? Future.succeededFuture()
        : reloadPrices(true).onSuccess(v -> {
          if (!config.reloadInterval().isZero()) {
            reloadTimer = vertx.setPeriodic(config.reloadInterval().toMillis(), id -> reloadPrices(false));
          }
        });
    return prices.compose(v -> restoreState()).compose(v -> emitter.start(downstream));
  }

  /** Reads the price file on a worker; applies it if its text changed. At start a bad table fails the start. */
  private Future<Void> reloadPrices(boolean initial) {
    return vertx.executeBlocking(() -> {
      String text = Files.readString(config.priceTable(), StandardCharsets.UTF_8);
      if (text.equals(priceText)) {
        return null;
      }
      PriceTable t = PriceTable.parse(text);
      usage.prices(t);
      priceText = text;
      return t;
    }, false).transform(ar -> {
      if (ar.succeeded()) {
        if (ar.result() != null) {
          reloadsOk.increment();
          LOG.info("gen_ai_metrics " + config.name() + ": price table " + config.priceTable() + " loaded ("
              + ar.result().size() + " prices)");
          AUDIT.info("gen_ai_metrics " + config.name() + ": price table " + config.priceTable() + " applied ("
              + ar.result().size() + " prices)");
        }
        return Future.<Void>succeededFuture();
      }
      reloadsFailed.increment();
      String msg = "gen_ai_metrics " + config.name() + ": price table " + config.priceTable() + " not loaded:\n"
          + ar.cause().getMessage();
      AUDIT.warning(msg);
      if (initial) {
        return Future.<Void>failedFuture(msg);
      }
      LOG.warning(msg + "\n(the previous table stays in use)");
      return Future.<Void>succeededFuture();
    });
  }

  private Future<Void> restoreState() {
    if (config.stateFile() == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      if (Files.exists(config.stateFile())) {
        usage.restoreLedger(new JsonObject(Files.readString(config.stateFile(), StandardCharsets.UTF_8)),
            (i, problem) -> LOG.warning("gen_ai_metrics " + config.name() + ": state entry " + i + " of "
                + config.stateFile() + " skipped: " + problem));
      }
      return null;
    }, false).recover(e -> {
      LOG.warning("gen_ai_metrics " + config.name() + ": cannot read " + config.stateFile() + " (" + e
          + "); month-to-date cost starts from zero");
      return Future.succeededFuture();
    }).mapEmpty();
  }

  private ExportMetricsServiceRequest snapshot() {
    ExportMetricsServiceRequest r = usage.snapshot();
    saveState();
    return r;
  }

  /** Writes the ledger (temp file, then an atomic rename) on a worker. */
  private Future<Void> saveState() {
    if (config.stateFile() == null) {
      return Future.succeededFuture();
    }
    return new dev.telemetry.gateway.state.StateFile(vertx, config.stateFile()).write(usage.ledgerJson().encode())
        .onFailure(e -> LOG.warning("gen_ai_metrics " + config.name() + ": cannot write " + config.stateFile() + ": "
            + e)).recover(e -> Future.succeededFuture());
  }

  @Override
  public Future<Void> stop() {
    if (reloadTimer >= 0) {
      vertx.cancelTimer(reloadTimer);
    }
    return emitter.stop().compose(v -> saveState());
  }
}
