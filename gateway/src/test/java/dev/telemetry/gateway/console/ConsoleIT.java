package dev.telemetry.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * The console in a real browser: Debian's headless Chromium, driven by Selenium through Debian's chromedriver,
 * against a gateway under load (two OTLP backends, redaction, tail sampling, span metrics, an SLO, routing). It
 * signs in, watches the topology's rates move, makes an invalid edit and sees the problem at its JSON path, explains
 * a recent sample against the live and the edited table, applies a table (dry run first) and sees the traffic move to
 * the other backend, then rolls back and sees it come back. Screenshots of each page go to {@code
 * console.screenshots} (target/console-screenshots by default; docs/console/ holds the committed ones).
 */
class ConsoleIT {
  static final String TOKEN = "console-it-token-0123456789abcdef";
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String CHROMEDRIVER = "/usr/bin/chromedriver";
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "processors": {
          "pii": {"type": "redaction", "rules": [{"name": "emails", "detector": "email", "action": "mask"}]},
          "sampler": {"type": "tail_sampling", "decision_wait": "300ms",
                      "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]},
                                   {"name": "some", "type": "probabilistic", "percentage": 50}]}},
        "connectors": {"red": {"type": "span_metrics", "flush_interval": "1s"},
                       "genai": {"type": "gen_ai_metrics", "price_table": "{{PRICES}}", "flush_interval": "1s",
                                 "allocation_attributes": ["team"]}},
        "exporters": {
          "primary": {"type": "otlp", "endpoint": "{{A}}", "batch": {"timeout": "5ms"}},
          "audit": {"type": "otlp", "endpoint": "{{B}}", "batch": {"timeout": "5ms"}},
          "metrics-file": {"type": "file", "directory": "{{DIR}}/metrics"}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "processors": ["pii", "sampler"],
                     "exporters": ["primary", "audit", "red", "genai"]},
          "metrics": {"receivers": ["red", "genai"], "exporters": ["metrics-file"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "100ms"},
        "slos": {"file": "{{SLOS}}", "evaluation_interval": "1s"},
        "alerting": {"alertmanagers": ["http://127.0.0.1:{{AM}}"], "resend_interval": "5s"},
        "forecasts": {"interval": "1s", "cost_budgets": [{"name": "search-team", "match": {"team": "search"},
                                                           "monthly_usd": 50}]},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "token": "%s"},
        "audit": {"file": "{{DIR}}/audit.jsonl"},
        "logging": {"level": "warn"}
      }""".formatted(TOKEN);
  static final String TABLE = """
      {"rules": [
        {"id": "checkout", "match": {"signal": "traces", "resource": {"service.name": "checkout"}},
         "exporters": ["primary"]}
       ],
       "default": {"traces": {"exporters": ["primary"]}}}""";
  static final String SLOS = """
      {"slos": [{"name": "checkout-availability", "service": "checkout", "objective": 99, "window": "1d",
                 "sli": {"type": "availability"}}]}""";

  @TempDir
  Path dir;
  Vertx sinkVertx;
  OtlpSink primary;
  OtlpSink audit;
  GatewayHarness gw;
  WebDriver browser;
  final AtomicBoolean sending = new AtomicBoolean(true);
  final AtomicLong sent = new AtomicLong();
  Thread load;
  Path shots;

  @BeforeEach
  void start() throws Exception {
    for (String binary : List.of(CHROMIUM, CHROMEDRIVER)) {
      assertThat(new File(binary).canExecute()).as(binary + " (Debian packages chromium and chromium-driver; "
          + ".ci/run installs them)").isTrue();
    }
    sinkVertx = Vertx.vertx();
    primary = new OtlpSink(sinkVertx, Ports.free()).start();
    audit = new OtlpSink(sinkVertx, Ports.free()).start();
    Path routes = dir.resolve("routes.json");
    Files.writeString(routes, TABLE);
    Path slos = dir.resolve("slos.json");
    Files.writeString(slos, SLOS);
    // Alertmanager is away (nothing listens on its port): the alerts wait in the gateway's outbox.
    gw = GatewayHarness.start(CONFIG, Map.of("A", primary.endpoint(), "B", audit.endpoint(), "ROUTES",
        routes.toString(), "SLOS", slos.toString(), "DIR", dir.toString(), "AM", Integer.toString(Ports.free()),
        "PRICES", Path.of("../config/examples/genai/prices.json").toAbsolutePath().toString()));
    load = new Thread(this::sendLoad, "console-load");
    load.start();
    shots = Path.of(System.getProperty("console.screenshots", "target/console-screenshots"));
    Files.createDirectories(shots);
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM);
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1280,800", "--force-device-scale-factor=1", "--user-data-dir=" + dir.resolve("chromium"),
        "--no-first-run", "--disable-extensions", "--disable-background-networking", "--lang=en-US");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort()
        .withLogFile(dir.resolve("chromedriver.log").toFile()).build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() throws Exception {
    sending.set(false);
    if (load != null) {
      load.join(10_000);
    }
    if (browser != null) {
      browser.quit();
    }
    if (gw != null) {
      gw.close();
    }
    primary.close();
    audit.close();
    sinkVertx.close().await();
  }

  @Test
  void anOperatorWatchesEditsExplainsAppliesAndRollsBack() throws Exception {
    String console = "http://127.0.0.1:" + gw.adminPort + "/console/";
    browser.get(console);

    // A wrong token is refused with the gateway's words; the right one opens the topology.
    type(find(By.id("token")), "not-the-token-0123456789");
    find(By.cssSelector("#login button[type=submit]")).click();
    waitFor("the refusal", () -> text(By.id("login-error")).contains("missing or wrong bearer token"));
    type(find(By.id("token")), TOKEN);
    find(By.cssSelector("#login button[type=submit]")).click();

    // Topology: every component is there, and the rates move while the load runs (no reload).
    waitFor("the receiver's rate", () -> value("receiver:otlp", "in") > 0);
    for (String node : List.of("processor:pii", "processor:sampler", "exporter:primary", "exporter:audit",
        "connector:red", "exporter:metrics-file")) {
      assertThat(browser.findElements(By.cssSelector("[data-node='" + node + "']"))).as(node).isNotEmpty();
    }
    double first = value("receiver:otlp", "in");
    waitFor("the rate to change with the next snapshot", () -> value("receiver:otlp", "in") != first);
    waitFor("the sampler's decisions", () -> value("processor:sampler", "kept") > 0
        && value("processor:sampler", "dropped") > 0);
    waitFor("spans out of primary", () -> value("exporter:primary", "out") > 0);
    assertThat(value("exporter:audit", "out")).as("nothing routed to audit yet").isZero();
    assertThat(browser.findElements(By.cssSelector(".edges path"))).as("edges drawn").hasSizeGreaterThan(3);
    screenshot("topology");

    // Routes: the live table; an invalid edit shows the gateway's problem at its path.
    browser.get(console + "#/routes");
    waitFor("the live version", () -> text(By.id("live-version")).equals("1"));
    waitFor("the editor validated", () -> !browser.findElements(By.id("valid")).isEmpty());
    JsonObject invalid = new JsonObject(TABLE);
    invalid.getJsonArray("rules").getJsonObject(0).put("exporters", new io.vertx.core.json.JsonArray()
        .add("primary").add("nowhere"));
    setEditor(invalid.encodePrettily());
    waitFor("the problem at its path", () -> !browser.findElements(
        By.cssSelector("[data-problem][data-path='rules[0].exporters[1]']")).isEmpty());
    WebElement problem = find(By.cssSelector("[data-problem][data-path='rules[0].exporters[1]']"));
    assertThat(problem.getText()).contains("nowhere");
    problem.findElement(By.tagName("button")).click();
    String selected = (String) js("const e = document.getElementById('editor');"
        + "return e.value.substring(e.selectionStart, e.selectionEnd);");
    assertThat(selected).as("the editor selects the offending value").isEqualTo("\"nowhere\"");
    screenshot("routes-invalid", "#problems", "end");
    // Broken JSON: the line and column, before anything reaches the gateway.
    setEditor("{\"rules\": [}");
    waitFor("the syntax error", () -> text(By.id("problems")).contains("line 1"));

    // The edit that moves checkout to the audit backend; explain a recent sample against both tables.
    JsonObject moved = new JsonObject(TABLE);
    moved.getJsonArray("rules").getJsonObject(0).put("exporters", new io.vertx.core.json.JsonArray()
        .add("audit"));
    setEditor(moved.encodePrettily());
    waitFor("the edit validated", () -> !browser.findElements(By.id("valid")).isEmpty());
    Select samples = new Select(find(By.id("sample-pick")));
    waitFor("recent samples", () -> samples.getOptions().size() > 1);
    String sampleText = null;
    for (int i = 1; i < samples.getOptions().size() && (sampleText == null || !sampleText.contains("checkout"));
         i++) {
      if (samples.getOptions().get(i).getText().startsWith("traces")) {
        samples.selectByIndex(i);
        sampleText = find(By.id("sample")).getAttribute("value");
      }
    }
    assertThat(sampleText).as("a recent request from checkout").contains("checkout");
    find(By.id("explain")).click();
    waitFor("the explanation", () -> !browser.findElements(By.cssSelector("#explain-out table.explain tbody tr"))
        .isEmpty());
    WebElement checkoutRow = browser.findElements(By.cssSelector("#explain-out tbody tr")).stream()
        .filter(r -> r.getText().contains("checkout")).findFirst()
        .orElseThrow(() -> new AssertionError("no checkout item in: " + text(By.id("explain-out"))));
    List<WebElement> cells = checkoutRow.findElements(By.tagName("td"));
    assertThat(cells.get(1).getText()).contains("checkout → primary");
    assertThat(cells.get(2).getText()).contains("checkout → audit");
    assertThat(checkoutRow.getAttribute("class")).contains("differs");
    screenshot("routes-explain", "#explain-out", "end");

    // Apply: the dry run's diff first, then the new version; checkout's spans go to audit now.
    find(By.id("apply")).click();
    waitFor("the confirmation", () -> !browser.findElements(By.id("confirm-apply")).isEmpty());
    assertThat(text(By.cssSelector("#apply-box [data-diff]"))).containsPattern("(?m)^- +\"primary\"$")
        .containsPattern("(?m)^\\+ +\"audit\"$");
    screenshot("routes-apply", "#apply-box", "center");
    find(By.id("confirm-apply")).click();
    waitFor("version 2 live", () -> text(By.id("live-version")).equals("2"));
    long auditBefore = checkoutSpans(audit);
    waitFor("checkout's spans at audit", () -> checkoutSpans(audit) > auditBefore + 50);
    browser.get(console + "#/topology");
    waitFor("the console shows spans out of audit", () -> value("exporter:audit", "out") > 0);
    screenshot("topology-after-apply");

    // Roll back to version 1: checkout goes back to primary, audit gets nothing more from it.
    browser.get(console + "#/routes");
    waitFor("the history", () -> !browser.findElements(By.cssSelector("tr[data-version='1'] [data-action="
        + "'rollback']")).isEmpty());
    find(By.cssSelector("tr[data-version='1'] [data-action='rollback']")).click();
    find(By.id("confirm-rollback")).click();
    waitFor("version 3 live (the rollback)", () -> text(By.id("live-version")).equals("3"));
    find(By.cssSelector("tr[data-version='2'] button")).click(); // diff of version 2 against the live table
    waitFor("the diff", () -> java.util.regex.Pattern.compile("(?m)^\\+ +\"primary\"$")
        .matcher(text(By.id("version-diff"))).find());
    screenshot("routes-history", "#version-diff", "end");
    long primaryBefore = checkoutSpans(primary);
    waitFor("checkout's spans back at primary", () -> checkoutSpans(primary) > primaryBefore + 50);
    Thread.sleep(1_500); // what was in flight at the rollback has arrived
    long auditSettled = checkoutSpans(audit);
    Thread.sleep(2_000);
    assertThat(checkoutSpans(audit)).as("no checkout spans at audit after the rollback").isEqualTo(auditSettled);

    // SLOs: the availability SLO with its budget.
    browser.get(console + "#/slos");
    waitFor("the SLO", () -> !browser.findElements(By.cssSelector("[data-slo='checkout-availability']")).isEmpty());
    // SLOs are judged on whole minutes: the alert may take up to a minute and a bit from the first bad calls.
    waitFor("the SLO alert firing, waiting for Alertmanager", Duration.ofSeconds(90),
        () -> text(By.id("alerts")).contains("SLOErrorBudgetBurn") && text(By.id("alerts")).contains(
            "Waiting for Alertmanager"));
    waitFor("the GenAI cost budget with its projection", () -> text(By.id("cost")).contains("search-team")
        && !browser.findElements(By.cssSelector("[data-budget='search-team'] td:nth-child(4)")).isEmpty()
        && browser.findElement(By.cssSelector("[data-budget='search-team'] td:nth-child(4)")).getText()
        .startsWith("$"));
    waitFor("the alert history", () -> text(By.id("alert-history")).contains("SLOErrorBudgetBurn"));
    assertThat(text(By.id("alert-history"))).doesNotContain("?");
    screenshot("slos");
    screenshot("slos-cost", "#forecasts", "end");

    // Every change the console made is in the audit log, with the token that made it.
    Await.until("the audit entries", Duration.ofSeconds(10), () -> {
      String auditLog;
      try {
        auditLog = Files.readString(dir.resolve("audit.jsonl"));
      } catch (java.io.IOException e) {
        return false;
      }
      return auditLog.contains("\"action\":\"PUT /api/v1/routes\"") && auditLog.contains(
          "\"action\":\"POST /api/v1/routes/rollback\"") && auditLog.contains("token admin.token from");
    });

    // The topology's rendering of a cluster member and its rates, from two given snapshots.
    Object rendered = ((JavascriptExecutor) browser).executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        import('./js/topology.js').then(({ TopologyPage }) => {
          const root = document.createElement('div');
          document.body.append(root);
          const page = new TopologyPage(root, () => {});
          page.body = root;
          const snap = (at, received, sent) => ({ at_ms: at, pipelines: [{ signal: 'traces',
            receivers: ['receiver:otlp'], processors: [], exporters: ['exporter:jaeger'] }],
            nodes: [{ id: 'receiver:otlp', kind: 'receiver', name: 'otlp', type: 'otlp', metrics: [
              { name: 'gateway_receiver_items_received_total', tags: { signal: 'traces' }, value: received },
              { name: 'gateway_receiver_items_refused_total', tags: { reason: 'quota' }, value: received / 10 }] },
              { id: 'exporter:jaeger', kind: 'exporter', name: 'jaeger', type: 'otlp',
                queue: { type: 'persistent', max_items: 1000, max_bytes: 1 }, metrics: [
                { name: 'gateway_exporter_items_sent_total', tags: {}, value: sent },
                { name: 'gateway_queue_items', tags: {}, value: 250 },
                { name: 'gateway_queue_oldest_age_seconds', tags: {}, value: 3.5 }] }],
            metrics: [{ name: 'gateway_cluster_ring_share', tags: {}, value: 0.5 }],
            cluster: { name: 'prod', self: 'gw-1', ring: [{ id: 'gw-1', share: 0.5, self: true },
              { id: 'gw-2', share: 0.5, self: false }], quorum: true, transport: 'otlp', forward_queue_bytes: 2048,
              replica_spans: 12, replication_factor: 2 } });
          page.render(snap(10000, 1000, 500), snap(8000, 0, 0));
          const v = (n, s) => root.querySelector(`[data-node="${n}"] [data-stat="${s}"]`).getAttribute('data-value');
          done({ in: v('receiver:otlp', 'in'), refused: v('receiver:otlp', 'refused'),
            out: v('exporter:jaeger', 'out'), queue: v('exporter:jaeger', 'queue'),
            refusedText: root.querySelector('[data-node="receiver:otlp"] [data-stat="refused"] .value').textContent,
            cluster: root.querySelector('[data-cluster]').textContent });
          root.remove();
        }).catch((e) => done({ error: String(e) }));
        """);
    @SuppressWarnings("unchecked")
    Map<String, Object> r = (Map<String, Object>) rendered;
    assertThat(r).doesNotContainKey("error");
    assertThat(r.get("in")).isEqualTo("500");
    assertThat(r.get("refused")).isEqualTo("50");
    assertThat(r.get("refusedText")).isEqualTo("quota 50/s");
    assertThat(r.get("out")).isEqualTo("250");
    assertThat(r.get("queue")).isEqualTo("250");
    assertThat((String) r.get("cluster")).contains("Cluster prod").contains("this member gw-1; 2 on the ring")
        .contains("forward queue 2.0 KiB (otlp)").contains("gw-2").contains("50.0%");

    // Keyboard: the navigation is reachable and operable without a mouse.
    browser.get(console + "#/topology");
    waitFor("the topology", () -> !browser.findElements(By.cssSelector("[data-node]")).isEmpty());
    js("document.getElementById('nav-routes').focus();");
    browser.switchTo().activeElement().sendKeys(org.openqa.selenium.Keys.ENTER);
    waitFor("the routes page by keyboard", () -> !browser.findElements(By.id("editor")).isEmpty());
  }

  long checkoutSpans(OtlpSink sink) {
    return sink.traceRequests().stream().flatMap(r -> r.getResourceSpansList().stream())
        .filter(rs -> rs.getResource().getAttributesList().stream().anyMatch(kv -> kv.getKey().equals(
            "service.name") && kv.getValue().getStringValue().equals("checkout")))
        .mapToLong(rs -> rs.getScopeSpansList().stream().mapToLong(ScopeSpans::getSpansCount).sum()).sum();
  }

  double value(String node, String stat) {
    List<WebElement> e = browser.findElements(By.cssSelector("[data-node='" + node + "'] [data-stat='" + stat
        + "']"));
    if (e.isEmpty()) {
      return -1;
    }
    String v = e.get(0).getAttribute("data-value");
    return v == null || v.isEmpty() ? -1 : Double.parseDouble(v);
  }

  WebElement find(By by) {
    waitFor(by.toString(), () -> !browser.findElements(by).isEmpty() && browser.findElement(by).isDisplayed());
    return browser.findElement(by);
  }

  String text(By by) {
    List<WebElement> e = browser.findElements(by);
    return e.isEmpty() ? "" : e.get(0).getText();
  }

  void type(WebElement e, String text) {
    e.clear();
    e.sendKeys(text);
  }

  /** Replaces the editor's text as a paste would (one input event). */
  void setEditor(String text) {
    ((JavascriptExecutor) browser).executeScript("const e = document.getElementById('editor'); e.value = "
        + "arguments[0]; e.dispatchEvent(new Event('input', {bubbles: true}));", text);
  }

  Object js(String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  void waitFor(String what, java.util.function.BooleanSupplier condition) {
    waitFor(what, Duration.ofSeconds(30), condition);
  }

  void waitFor(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    try {
      Await.until(what, timeout, () -> {
        try {
          return condition.getAsBoolean();
        } catch (org.openqa.selenium.StaleElementReferenceException e) {
          return false; // the page re-rendered under us; ask again
        }
      });
    } catch (AssertionError e) {
      try {
        screenshot("failed-" + what.replaceAll("[^A-Za-z0-9]+", "-"));
      } catch (Exception ignored) {
        // the screenshot is a diagnosis aid only
      }
      throw e;
    }
  }

  /** Scrolls {@code selector} into view ({@code block}: start, center, end) first. */
  void screenshot(String name, String selector, String block) throws Exception {
    js("document.querySelector('" + selector + "').scrollIntoView({block: '" + block + "'});");
    screenshot(name);
  }

  void screenshot(String name) throws Exception {
    File f = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(f.toPath(), shots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  /** Two services, ~20 requests/s of 10 traces × 3 spans; a few errors; e-mail addresses for the redaction. */
  void sendLoad() {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long n = 0;
    while (sending.get()) {
      n++;
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      req.addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "assistant")).addAttributes(kv("team", "search")))
          .addScopeSpans(ScopeSpans.newBuilder().addSpans(genAiSpan())));
      for (String service : List.of("checkout", "search")) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder();
        for (int t = 0; t < 5; t++) {
          byte[] trace = new byte[16];
          ThreadLocalRandom.current().nextBytes(trace);
          for (int s = 0; s < 3; s++) {
            byte[] span = new byte[8];
            ThreadLocalRandom.current().nextBytes(span);
            boolean error = s == 0 && ThreadLocalRandom.current().nextInt(20) == 0;
            long start = System.currentTimeMillis() * 1_000_000L;
            ss.addSpans(Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(span))
                .setName(s == 0 ? "POST /" + service : "db.query").setKind(s == 0 ? Span.SpanKind.SPAN_KIND_SERVER
                    : Span.SpanKind.SPAN_KIND_CLIENT)
                .setStartTimeUnixNano(start).setEndTimeUnixNano(start + 1_000_000L * (5 + s))
                .setStatus(Status.newBuilder().setCode(error ? Status.StatusCode.STATUS_CODE_ERROR
                    : Status.StatusCode.STATUS_CODE_OK))
                .addAttributes(kv("user.email", "user" + (n % 7) + "@example.com")));
          }
        }
        req.addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder()
            .addAttributes(kv("service.name", service))).addScopeSpans(ss));
      }
      try {
        client.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
            .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(5))
            .POST(HttpRequest.BodyPublishers.ofByteArray(req.build().toByteArray())).build(),
            HttpResponse.BodyHandlers.discarding());
        sent.incrementAndGet();
        // A varying pace, so that successive rates differ.
        Thread.sleep(30 + (n % 5) * 10);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // the gateway is stopping; the loop ends with `sending`
      }
    }
  }

  /** A chat call as the GenAI semantic conventions describe it: provider, model, token usage. */
  static Span genAiSpan() {
    byte[] trace = new byte[16];
    ThreadLocalRandom.current().nextBytes(trace);
    long start = System.currentTimeMillis() * 1_000_000L;
    return Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(new byte[] {1, 2,
            3, 4, 5, 6, 7, 8})).setName("chat gpt-4o").setKind(Span.SpanKind.SPAN_KIND_CLIENT)
        .setStartTimeUnixNano(start).setEndTimeUnixNano(start + 800_000_000L)
        .addAttributes(kv("gen_ai.operation.name", "chat")).addAttributes(kv("gen_ai.provider.name", "openai"))
        .addAttributes(kv("gen_ai.request.model", "gpt-4o"))
        .addAttributes(KeyValue.newBuilder().setKey("gen_ai.usage.input_tokens").setValue(AnyValue.newBuilder()
            .setIntValue(1200)))
        .addAttributes(KeyValue.newBuilder().setKey("gen_ai.usage.output_tokens").setValue(AnyValue.newBuilder()
            .setIntValue(300)))
        .build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }
}
