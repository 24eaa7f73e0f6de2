/** The parts of xmpp.js (@xmpp/component 0.13, @xmpp/client 0.14) the gateway and its tests use. */
declare module '@xmpp/xml' {
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    constructor(name: string, attrs?: Record<string, string | undefined>);
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    is(name: string, xmlns?: string): boolean;
    toString(): string;
    c(name: string, attrs?: Record<string, string>): Element;
    t(text: string): Element;
    up(): Element;
  }
  export type Child = Element | string | undefined | null | false;
  function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element;
  export default xml;
}

declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';
  import type { Element, Child } from '@xmpp/xml';

  export interface Component extends EventEmitter {
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    reconnect: { stop(): void };
    socket: { destroy(): void } | null;
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { stanza: Element }) => Element | Promise<Element>): void;
    };
  }
  export function component(options: { service: string; domain: string; password: string }): Component;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element;
}

declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  import type { Element, Child } from '@xmpp/xml';

  export interface Client extends EventEmitter {
    status: string;
    jid: { toString(): string; bare(): { toString(): string } } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    write(raw: string): Promise<void>;
    reconnect: { stop(): void };
    iqCaller: { get(el: Element, to?: string, timeout?: number): Promise<Element> };
  }
  export function client(options: {
    service: string;
    domain: string;
    username?: string;
    password?: string;
    resource?: string;
  }): Client;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Child[]): Element;
}
