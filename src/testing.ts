// `loopwise/testing`: the in-process client for tests (FastAPI's TestClient). Requests go through
// the whole pipeline, both lanes and the real worker pool, without a socket:
//
//     const client = await TestClient.start(app);
//     const res = await client.get("/items", { query: { limit: 5 } });
//     await client.close();
export { TestClient, type TestClientOptions, type TestRequest, type TestResponse } from "./testing/test-client.js";
export type { TestWebSocket, TestWebSocketClosed, TestWebSocketInit } from "./testing/test-websocket.js";
