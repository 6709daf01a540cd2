package dev.telemetry.gateway.exporter.elasticsearch;

import co.elastic.clients.transport.TransportOptions;
import co.elastic.clients.transport.http.TransportHttpClient;
import co.elastic.clients.util.BinaryData;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * elasticsearch-java's HTTP layer on the Vert.x HTTP client: requests run on the caller's event loop (no extra I/O
 * threads, no hop back), round-robin over the configured nodes. elasticsearch-java still does the request and
 * response (de)serialization.
 */
final class VertxTransportHttpClient implements TransportHttpClient {
  private final HttpClient client;
  private final List<URI> nodes;
  private final Map<String, String> headers;
  private final long timeoutMillis;
  private final AtomicInteger next = new AtomicInteger();
  /** The name https nodes' certificates must carry (and SNI), when not their host; null otherwise. */
  private final String serverName;

  VertxTransportHttpClient(Vertx vertx, List<URI> nodes, Map<String, String> headers, HttpClientOptions options,
                           long timeoutMillis) {
    this(vertx, nodes, headers, options, timeoutMillis, null);
  }

  VertxTransportHttpClient(Vertx vertx, List<URI> nodes, Map<String, String> headers, HttpClientOptions options,
                           long timeoutMillis, String serverName) {
    this.serverName = serverName;
    this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(8));
    this.nodes = List.copyOf(nodes);
    this.headers = Map.copyOf(headers);
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Response performRequest(String endpointId, Node node, Request request, TransportOptions options)
      throws IOException {
    try {
      return performRequestAsync(endpointId, node, request, options).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  @Override
  public CompletableFuture<Response> performRequestAsync(String endpointId, Node node, Request request,
                                                          TransportOptions options) {
    URI base = node != null ? node.uri() : nodes.get(Math.floorMod(next.getAndIncrement(), nodes.size()));
    Node target = node != null ? node : new Node(base);
    StringBuilder uri = new StringBuilder();
    String basePath = base.getPath() == null ? "" : base.getPath();
    uri.append(basePath.endsWith("/") ? basePath.substring(0, basePath.length() - 1) : basePath).append(request.path());
    char sep = '?';
    for (Map.Entry<String, String> q : request.queryParams().entrySet()) {
      uri.append(sep).append(URLEncoder.encode(q.getKey(), StandardCharsets.UTF_8)).append('=')
          .append(URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8));
      sep = '&';
    }
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.valueOf(request.method()))
        .setHost(base.getHost()).setPort(base.getPort()).setSsl("https".equals(base.getScheme()))
        .setURI(uri.toString()).setIdleTimeout(timeoutMillis);
    if (serverName != null && "https".equals(base.getScheme())) {
      // Connect to the node, verify (and send as SNI) the configured name.
      ro.setServer(io.vertx.core.net.SocketAddress.inetSocketAddress(base.getPort(), base.getHost()))
          .setHost(serverName);
    }
    headers.forEach(ro::putHeader);
    request.headers().forEach(ro::putHeader);
    if (options != null) {
      options.headers().forEach(h -> ro.putHeader(h.getKey(), h.getValue()));
    }
    Buffer body = null;
    if (request.body() != null) {
      body = Buffer.buffer();
      for (ByteBuffer b : request.body()) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        body.appendBytes(bytes);
      }
    }
    Buffer toSend = body;
    return client.request(ro)
        .compose(req -> toSend == null ? req.send() : req.send(toSend))
        .compose(resp -> resp.body().map(b -> (Response) new VertxResponse(target, resp.statusCode(), resp.headers(), b)))
        .toCompletionStage().toCompletableFuture();
  }

  @Override
  public void close() {
    client.close();
  }

  /** A fully read response. */
  private record VertxResponse(Node node, int statusCode, MultiMap headerMap, Buffer bytes) implements Response {
    @Override
    public String header(String name) {
      return headerMap.get(name);
    }

    @Override
    public List<String> headers(String name) {
      return headerMap.getAll(name);
    }

    @Override
    public BinaryData body() {
      String type = headerMap.get("Content-Type");
      return bytes.length() == 0 ? null : BinaryData.of(bytes.getBytes(), type == null ? "application/json" : type);
    }

    @Override
    public Object originalResponse() {
      return this;
    }

    @Override
    public void close() {
    }
  }
}
