/** net: the sentinel's one HTTP client transport and the capped body reader its HTTP servers share. */
export { ExchangeError, httpExchange, ResponseHeaders } from './http-exchange.js';
export type { ExchangeFailure, ExchangeRequest, ExchangeResponse } from './http-exchange.js';
export { BodyAbortedError, BodyTooLargeError, readCapped } from './read-capped.js';
