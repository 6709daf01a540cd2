package dev.telemetry.gateway.connector;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A known multi-service workload, sent by the OpenTelemetry Java SDK (one tracer provider per service, each with its
 * own exporter, as separate processes would): a shop whose frontend calls payments and cart over HTTP (W3C trace
 * context carried in headers), cart querying PostgreSQL, and an assistant calling models. Durations are explicit,
 * so "slow" costs no wall time. The expected counts are constants the tests compare PromQL answers with.
 */
public final class AnalyticsWorkload implements AutoCloseable {
  public static final int CHECKOUTS = 100;
  /** Every 10th payment fails (payments and the frontend's server span record ERROR). */
  public static final int FAILED_PAYMENTS = 10;
  /** Every 4th payment is slow: 1.2 s. */
  public static final int SLOW_PAYMENTS = 25;
  public static final int ASKS = 35;

  private static final TextMapGetter<Map<String, String>> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private final Map<String, SdkTracerProvider> providers = new LinkedHashMap<>();
  private final Function<String, String> endpointOf;

  /** {@code endpointOf}: the OTLP/gRPC endpoint each service sends to (a cluster may get each at another member). */
  public AnalyticsWorkload(Function<String, String> endpointOf) {
    this.endpointOf = endpointOf;
  }

  private Tracer tracer(String service) {
    return providers.computeIfAbsent(service, s -> SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.builder().put("service.name", s).put("team", team(s)).build()))
        .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder()
            .setEndpoint(endpointOf.apply(s)).build()).setMaxQueueSize(8192).setMaxExportBatchSize(200)
            .setScheduleDelay(Duration.ofMillis(50)).build()).build()).get("workload");
  }

  private static String team(String service) {
    return service.equals("assistant") ? "ml" : "shop";
  }

  /** The shop: {@value #CHECKOUTS} checkouts. Returns nothing: what was sent is in the constants. */
  public void shop() {
    Instant t0 = Instant.now().minusSeconds(5);
    for (int i = 0; i < CHECKOUTS; i++) {
      boolean fail = i % 10 == 0;
      long payMillis = i % 4 == 0 ? 1200 : 40;
      Span checkout = tracer("frontend").spanBuilder("GET /checkout").setSpanKind(SpanKind.SERVER)
          .setNoParent().setStartTimestamp(t0).setAttribute("http.route", "/checkout").startSpan();
      Context inCheckout = Context.root().with(checkout);
      // frontend → payments
      Span pay = client("frontend", "POST /pay", inCheckout, t0);
      Span payServer = server("payments", "POST /pay", "/pay", pay, t0);
      end(payServer, fail, t0, payMillis - 2);
      end(pay, fail, t0, payMillis);
      // frontend → cart → PostgreSQL
      Span cart = client("frontend", "GET /cart", inCheckout, t0);
      Span cartServer = server("cart", "GET /cart", "/cart", cart, t0);
      Span query = tracer("cart").spanBuilder("SELECT carts").setSpanKind(SpanKind.CLIENT)
          .setParent(Context.root().with(cartServer)).setStartTimestamp(t0)
          .setAttribute("db.system.name", "postgresql").setAttribute("db.namespace", "carts").startSpan();
      end(query, false, t0, 3);
      end(cartServer, false, t0, 6);
      end(cart, false, t0, 8);
      end(checkout, fail, t0, payMillis + 20);
    }
  }

  /**
   * The assistant: {@value #ASKS} asks, each one model call — 10 gpt-4o (100k in, 20k out), 10 gpt-4o-mini (200k
   * in of which 100k cached, 50k out), 10 claude-sonnet-4 (50k in, 10k out), 5 of a model no price table names.
   */
  public void assistant(String gpt4oTeamFeature) {
    Instant t0 = Instant.now().minusSeconds(2);
    for (int i = 0; i < ASKS; i++) {
      String model;
      long in;
      long out;
      long cached = 0;
      String provider = "openai";
      String feature = gpt4oTeamFeature;
      if (i < 10) {
        model = "gpt-4o";
        in = 100_000;
        out = 20_000;
      } else if (i < 20) {
        model = "gpt-4o-mini";
        in = 200_000;
        out = 50_000;
        cached = 100_000;
        feature = "support";
      } else if (i < 30) {
        model = "claude-sonnet-4";
        provider = "anthropic";
        in = 50_000;
        out = 10_000;
      } else {
        model = "mystery-1";
        in = 1000;
        out = 100;
      }
      Span ask = tracer("assistant").spanBuilder("POST /ask").setSpanKind(SpanKind.SERVER).setNoParent()
          .setStartTimestamp(t0).setAttribute("http.route", "/ask").startSpan();
      Span chat = tracer("assistant").spanBuilder("chat " + model).setSpanKind(SpanKind.CLIENT)
          .setParent(Context.root().with(ask)).setStartTimestamp(t0)
          .setAttribute("gen_ai.operation.name", "chat").setAttribute("gen_ai.provider.name", provider)
          .setAttribute("gen_ai.request.model", model).setAttribute("gen_ai.response.model", model)
          .setAttribute("gen_ai.usage.input_tokens", in).setAttribute("gen_ai.usage.output_tokens", out)
          .setAttribute("feature", feature)
          .setAttribute("server.address", provider.equals("openai") ? "api.openai.com" : "api.anthropic.com")
          .startSpan();
      if (cached > 0) {
        chat.setAttribute("gen_ai.usage.cache_read.input_tokens", cached);
      }
      end(chat, false, t0, 800);
      end(ask, false, t0, 810);
    }
  }

  private Span client(String service, String name, Context parent, Instant t0) {
    return tracer(service).spanBuilder(name).setSpanKind(SpanKind.CLIENT).setParent(parent)
        .setStartTimestamp(t0).startSpan();
  }

  /** The callee's server span, its parent taken from the W3C headers the client would have sent. */
  private Span server(String service, String name, String route, Span client, Instant t0) {
    Map<String, String> headers = new HashMap<>();
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(client), headers, Map::put);
    Context remote = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
    return tracer(service).spanBuilder(name).setSpanKind(SpanKind.SERVER).setParent(remote)
        .setStartTimestamp(t0).setAttribute("http.route", route).startSpan();
  }

  private static void end(Span s, boolean error, Instant t0, long millis) {
    if (error) {
      s.setStatus(StatusCode.ERROR);
    }
    s.end(t0.plusMillis(millis));
  }

  /** Flushes every service's exporter. */
  public boolean flush() {
    return providers.values().stream().allMatch(p -> p.forceFlush().join(20, TimeUnit.SECONDS).isSuccess());
  }

  @Override
  public void close() {
    providers.values().forEach(p -> p.shutdown().join(20, TimeUnit.SECONDS));
  }
}
