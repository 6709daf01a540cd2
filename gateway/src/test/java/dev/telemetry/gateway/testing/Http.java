package dev.telemetry.gateway.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Small HTTP helpers for tests that poll a gateway process. */
public final class Http {
  private Http() {
  }

  /** The status of a GET, or -1 when nothing answers (within 5 s). */
  public static int status(HttpClient client, String url) {
    try {
      return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The sum of a metric's samples (all tag sets) on a gateway's /metrics; NaN when nothing answers. */
  public static double metric(HttpClient client, int adminPort, String name) {
    return metric(client, adminPort, name, "");
  }

  /** As {@link #metric(HttpClient, int, String)}, over the samples whose tags contain {@code tag}. */
  public static double metric(HttpClient client, int adminPort, String name, String tag) {
    return metric(client, "127.0.0.1", adminPort, name, tag);
  }

  /** As {@link #metric(HttpClient, int, String, String)}, for an admin server on {@code host}. */
  public static double metric(HttpClient client, String host, int adminPort, String name, String tag) {
    try {
      String body = client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + adminPort + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      double sum = 0;
      for (String line : body.split("\n")) {
        if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && line.contains(tag)) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    } catch (Exception e) {
      return Double.NaN;
    }
  }
}
