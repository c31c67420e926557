/** net: the sentinel's HTTP client transport, shared by the watched system's clients and the notifiers. */
export { ExchangeError, httpExchange, ResponseHeaders } from './http-exchange.js';
export type { ExchangeFailure, ExchangeRequest, ExchangeResponse } from './http-exchange.js';
export { BodyAbortedError, BodyTooLargeError, readCapped } from './read-capped.js';
