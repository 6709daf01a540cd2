package dev.telemetry.gateway.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A soak: the shipped jar as its own process (its heap capped, {@code -XX:+ExitOnOutOfMemoryError}) on a saturation
 * config, offered a constant rate of spans (or log records: {@code --signal logs}) over OTLP/HTTP (or gRPC:
 * {@code --transport grpc}) for a long time. Every interval it records the interval's
 * latency percentiles and what would show a leak: the heap after GC (Micrometer's {@code jvm_gc_live_data_size_bytes},
 * the old generation after the last collection), RSS, threads and open file descriptors of the gateway process, its
 * CPU. Writes one CSV row per interval and an SVG with a panel per figure; prints the first and last quarter's means
 * so growth is one number.
 *
 * <pre>java -cp load-tests/target/benchmarks.jar dev.telemetry.gateway.loadtest.SoakRun --jar gateway/target/telemetry-gateway.jar \
 *   [--config full-pipeline] [--signal traces|logs] [--transport http|grpc] [--heap 1g] [--rate 75000] [--minutes 30] [--interval-seconds 30] [--out docs/soak/NAME]
 *   [--launcher deploy/bin/telemetry-gateway [--memory 1536MiB]]   (start through the launcher instead of -Xmx)
 *   [--client-warmup-seconds 20]   (warm this JVM's client first, so a cold start measures the gateway's coldness)
 *   [--latency-log FILE]   (every answered request: ms since the first interval's start when sent, latency in ms)</pre>
 * Loopback only; bounded by {@code --minutes}.
 */
public final class SoakRun {
  private SoakRun() {
  }

  /** One interval's figures. */
  record Sample(double minute, double p50Ms, double p99Ms, long achieved, double refusedRatio, long errors,
                double heapAfterGcMib, double rssMib, int threads, int fds, double cores) {
    static final String HEADER = "minute,p50_ms,p99_ms,achieved_spans_per_s,refused_ratio,errors,"
        + "heap_after_gc_mib,rss_mib,threads,fds,gateway_cores";

    String csv() {
      return String.format(Locale.ROOT, "%.2f,%.2f,%.2f,%d,%.4f,%d,%.1f,%.1f,%d,%d,%.3f", minute, p50Ms, p99Ms,
          achieved, refusedRatio, errors, heapAfterGcMib, rssMib, threads, fds, cores);
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>(Map.of("config", "full-pipeline", "heap", "1g", "rate", "75000",
        "minutes", "30", "interval-seconds", "30", "in-flight", "64", "spans-per-request", "100",
        "out", "soak", "transport", "http", "signal", "traces"));
    opt.put("client-warmup-seconds", "0");
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    if (!opt.containsKey("jar")) {
      throw new IllegalArgumentException("--jar PATH (the gateway's shaded jar) is required");
    }
    int grpc = SaturationBenchmark.freePort();
    int http = SaturationBenchmark.freePort();
    int admin = SaturationBenchmark.freePort();
    int sinkPort = SaturationBenchmark.freePort();
    Path dir = Files.createTempDirectory("soak");
    String json = SaturationBenchmark.template(opt.get("config")).replace("{{GRPC}}", "" + grpc)
        .replace("{{HTTP}}", "" + http).replace("{{ADMIN}}", "" + admin).replace("{{SINK}}", "" + sinkPort)
        .replace("{{TMP}}", dir.toString());
    Path config = dir.resolve("gateway.json");
    Files.writeString(config, json);
    Vertx sinkVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    AtomicLong sinkSpans = new AtomicLong();
    HttpServer sink = SaturationBenchmark.startSink(sinkVertx, sinkPort, sinkSpans);
    ProcessBuilder pb;
    if (opt.containsKey("launcher")) {
      // The launcher as users run it: its own heap sizing (from --memory, else its default), G1, the CDS archive.
      pb = new ProcessBuilder(opt.get("launcher"), "--config", config.toString());
      pb.environment().put("GATEWAY_JAR", Path.of(opt.get("jar")).toAbsolutePath().toString());
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      if (opt.containsKey("memory")) {
        pb.environment().put("GATEWAY_MEMORY_LIMIT", opt.get("memory"));
      }
    } else {
      pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx" + opt.get("heap"), "-XX:+ExitOnOutOfMemoryError", "-jar", opt.get("jar"), "--config",
          config.toString());
    }
    Vertx clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    int spansPerRequest = Integer.parseInt(opt.get("spans-per-request"));
    int inFlight = Integer.parseInt(opt.get("in-flight"));
    dev.telemetry.gateway.otlp.Signal signal = dev.telemetry.gateway.otlp.Signal.fromId(opt.get("signal"));
    byte[][] payloads = SaturationBenchmark.payloads(signal, spansPerRequest);
    int warmup = Integer.parseInt(opt.get("client-warmup-seconds"));
    if (warmup > 0) {
      warmClient(clientVertx, opt, signal, payloads, sinkVertx, sinkPort, sinkSpans, warmup);
    }
    Process gateway = pb.redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile()).start();
    HttpClient adminClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    Path out = Path.of(opt.get("out"));
    List<Sample> samples = new ArrayList<>();
    try {
      awaitReady(adminClient, admin, gateway);
      SaturationBenchmark.Sender sender = opt.get("transport").equals("grpc")
          ? new SaturationBenchmark.GrpcSender(clientVertx, grpc, signal, false)
          : new SaturationBenchmark.HttpSender(clientVertx, new int[] {http}, inFlight, signal, false);
      double rate = Double.parseDouble(opt.get("rate"));
      int interval = Integer.parseInt(opt.get("interval-seconds"));
      long intervals = Math.max(1, Math.round(Double.parseDouble(opt.get("minutes")) * 60 / interval));
      if (out.getParent() != null) {
        Files.createDirectories(out.getParent());
      }
      StringBuilder csv = new StringBuilder(Sample.HEADER).append('\n');
      long start = System.nanoTime();
      StringBuilder latencyLog = new StringBuilder("sent_ms,latency_ms\n");
      SaturationBenchmark.LatencyListener listener = (sentAt, micros) -> {
        synchronized (latencyLog) {
          latencyLog.append(String.format(Locale.ROOT, "%.1f,%.3f%n", (sentAt - start) / 1e6, micros / 1e3));
        }
      };
      long cpuBefore = cpuTicks(gateway.pid());
      for (long i = 0; i < intervals && gateway.isAlive(); i++) {
        long t0 = System.nanoTime();
        JsonObject step = SaturationBenchmark.runStep(clientVertx, sender, payloads, spansPerRequest, rate, interval,
            inFlight, sinkSpans, listener);
        long cpuNow = cpuTicks(gateway.pid());
        double cores = (cpuNow - cpuBefore) / 100.0 / ((System.nanoTime() - t0) / 1e9); // USER_HZ = 100
        cpuBefore = cpuNow;
        Map<String, Double> metrics = metrics(adminClient, admin);
        Map<String, String> status = procStatus(gateway.pid());
        Sample s = new Sample((System.nanoTime() - start) / 60e9, step.getDouble("p50_ms"),
            step.getDouble("p99_ms"), step.getLong("achieved_items_per_second"), step.getDouble("refused_ratio"),
            step.getLong("errors"), metrics.getOrDefault("jvm_gc_live_data_size_bytes", Double.NaN) / (1 << 20),
            Double.parseDouble(status.get("VmRSS").replace(" kB", "").trim()) / 1024,
            Integer.parseInt(status.get("Threads").trim()), fdCount(gateway.pid()), cores);
        samples.add(s);
        csv.append(s.csv()).append('\n');
        Files.writeString(Path.of(out + ".csv"), csv);
        System.out.println(s.csv());
      }
      if (!gateway.isAlive()) {
        System.out.println("the gateway exited (" + gateway.exitValue() + "); see " + dir.resolve("gateway.log"));
      }
      Files.writeString(Path.of(out + ".svg"), svg(samples, opt));
      if (opt.containsKey("latency-log")) {
        synchronized (latencyLog) {
          Files.writeString(Path.of(opt.get("latency-log")), latencyLog);
        }
      }
      JsonObject summary = summary(samples).put("rate", rate).put("config", opt.get("config"))
          .put("heap", opt.get("heap")).put("alive", gateway.isAlive());
      Files.writeString(Path.of(out + ".json"), summary.encodePrettily());
      System.out.println(summary.encode());
    } finally {
      gateway.destroy();
      if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
      clientVertx.close().await(30, TimeUnit.SECONDS);
      sink.close().await(10, TimeUnit.SECONDS);
      sinkVertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Runs the load generator at the configured rate against a server in this JVM before the gateway starts: over
   * gRPC the sink itself, over HTTP a server that reads each body and answers 200. The client's own JIT warm-up
   * then no longer lands in the first intervals, which measure the just-started gateway.
   */
  static void warmClient(Vertx vertx, Map<String, String> opt, dev.telemetry.gateway.otlp.Signal signal,
                         byte[][] payloads, Vertx sinkVertx, int sinkPort, AtomicLong sinkSpans, int seconds)
      throws Exception {
    int spansPerRequest = Integer.parseInt(opt.get("spans-per-request"));
    int inFlight = Integer.parseInt(opt.get("in-flight"));
    HttpServer echo = null;
    SaturationBenchmark.Sender sender;
    if (opt.get("transport").equals("grpc")) {
      sender = new SaturationBenchmark.GrpcSender(vertx, sinkPort, signal, false);
    } else {
      echo = sinkVertx.createHttpServer().requestHandler(req -> req.body().onComplete(b -> req.response().end()))
          .listen(0, "127.0.0.1").await();
      sender = new SaturationBenchmark.HttpSender(vertx, new int[] {echo.actualPort()}, inFlight, signal, false);
    }
    JsonObject step = SaturationBenchmark.runStep(vertx, sender, payloads, spansPerRequest, Double.parseDouble(opt.get("rate")), seconds, inFlight, sinkSpans);
    System.out.println("client warm-up: " + step.encode());
    if (echo != null) {
      echo.close().await(10, TimeUnit.SECONDS);
    }
  }

  static void awaitReady(HttpClient client, int admin, Process gateway) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until && gateway.isAlive()) {
      try {
        if (client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/health/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // starting
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the gateway did not become ready");
  }

  /** Unlabelled sums of the admin endpoint's Prometheus text, by metric name. */
  static Map<String, Double> metrics(HttpClient client, int admin) throws Exception {
    String body = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> out = new HashMap<>();
    for (String line : body.split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String name = line.substring(0, brace >= 0 ? brace : line.indexOf(' '));
      try {
        out.merge(name, Double.parseDouble(line.substring(space + 1)), Double::sum);
      } catch (NumberFormatException ignored) {
        // NaN / timestamps: not used here
      }
    }
    return out;
  }

  static Map<String, String> procStatus(long pid) throws Exception {
    Map<String, String> out = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return out;
  }

  static int fdCount(long pid) throws Exception {
    try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      return (int) s.count();
    }
  }

  /** utime + stime of the process in clock ticks (proc(5): fields 14 and 15, after the parenthesised name). */
  static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** Means of the first and last quarter of the run, and the worst interval. */
  static JsonObject summary(List<Sample> s) {
    int q = Math.max(1, s.size() / 4);
    List<Sample> first = s.subList(0, Math.min(q, s.size()));
    List<Sample> last = s.subList(Math.max(0, s.size() - q), s.size());
    JsonObject o = new JsonObject().put("intervals", s.size());
    for (String f : List.of("p99_ms", "heap_after_gc_mib", "rss_mib", "threads", "fds", "gateway_cores")) {
      o.put(f, new JsonObject().put("first_quarter", round(mean(first, f))).put("last_quarter", round(mean(last, f)))
          .put("max", round(s.stream().mapToDouble(x -> value(x, f)).max().orElse(Double.NaN))));
    }
    o.put("errors", s.stream().mapToLong(Sample::errors).sum());
    o.put("achieved_spans_per_s_mean", Math.round(s.stream().mapToLong(Sample::achieved).average().orElse(0)));
    return o;
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  static double mean(List<Sample> s, String f) {
    return s.stream().mapToDouble(x -> value(x, f)).average().orElse(Double.NaN);
  }

  static double value(Sample s, String f) {
    return switch (f) {
      case "p99_ms" -> s.p99Ms();
      case "p50_ms" -> s.p50Ms();
      case "heap_after_gc_mib" -> s.heapAfterGcMib();
      case "rss_mib" -> s.rssMib();
      case "threads" -> s.threads();
      case "fds" -> s.fds();
      case "gateway_cores" -> s.cores();
      default -> throw new IllegalArgumentException(f);
    };
  }

  /** Five stacked panels (heap after GC, RSS, threads, file descriptors, p50/p99) over minutes; y from 0. */
  static String svg(List<Sample> s, Map<String, String> opt) {
    String[][] panels = {{"heap_after_gc_mib", "heap after GC (MiB)"}, {"rss_mib", "RSS (MiB)"},
        {"threads", "threads"}, {"fds", "open file descriptors"}, {"p99_ms", "latency p99 (ms), p50 dashed"}};
    int w = 760;
    int ph = 120;
    int left = 70;
    StringBuilder b = new StringBuilder();
    int height = panels.length * (ph + 40) + 40;
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "font-family=\"sans-serif\" font-size=\"12\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>%n",
        w + 20, height));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\">Soak: %s, -Xmx%s, %s spans/s "
        + "offered, %d × %s s intervals</text>%n", left, opt.get("config"), opt.get("heap"), opt.get("rate"),
        s.size(), opt.get("interval-seconds")));
    double maxMinute = s.isEmpty() ? 1 : Math.max(1, s.get(s.size() - 1).minute());
    for (int p = 0; p < panels.length; p++) {
      int top = 40 + p * (ph + 40);
      String f = panels[p][0];
      double max = s.stream().mapToDouble(x -> value(x, f)).filter(Double::isFinite).max().orElse(1);
      double yMax = niceCeiling(max * 1.1);
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", left, top + 12, panels[p][1]));
      b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
          + "stroke=\"#999\"/>%n", left, top + 18, w - left, ph));
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", left - 5,
          top + 28, fmt(yMax)));
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n", left - 5,
          top + 18 + ph));
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s min</text>%n", w,
          top + 32 + ph, fmt(maxMinute)));
      b.append(polyline(s, f, left, top + 18, w - left, ph, maxMinute, yMax, ""));
      if (f.equals("p99_ms")) {
        b.append(polyline(s, "p50_ms", left, top + 18, w - left, ph, maxMinute, yMax, " stroke-dasharray=\"4 3\""));
      }
    }
    return b.append("</svg>\n").toString();
  }

  static String polyline(List<Sample> s, String f, int x0, int y0, int width, int height, double maxMinute,
                         double yMax, String style) {
    StringBuilder pts = new StringBuilder();
    for (Sample x : s) {
      double v = value(x, f);
      if (!Double.isFinite(v)) {
        continue;
      }
      pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x0 + x.minute() / maxMinute * width,
          y0 + height - Math.min(v, yMax) / yMax * height));
    }
    return "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\"" + style + " points=\"" + pts.toString()
        .trim() + "\"/>\n";
  }

  static double niceCeiling(double v) {
    if (v <= 0 || !Double.isFinite(v)) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * mag >= v) {
        return m * mag;
      }
    }
    return 10 * mag;
  }

  static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v);
  }
}
