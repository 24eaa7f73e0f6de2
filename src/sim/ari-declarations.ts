/**
 * The simulator's own Swagger declarations of Asterisk 22's whole ARI listing
 * (what ari-client and other generic clients read at connect time to build
 * their operations). Every resource and operation of the listing is declared,
 * so any client connects; operations the simulator does not model answer 501
 * as Asterisk does for a method it has no handler for. Written here as
 * compact tables, not copied: test/sim/ari-declarations.test.ts checks every
 * path, method, parameter, model field and event field below against the
 * declarations a real Asterisk 22 serves (shared/asterisk-ari-api-docs).
 */

type ParamType = 'path' | 'query' | 'body';
/** [name, paramType, dataType, required, allowMultiple] */
type Param = [string, ParamType, string, boolean?, boolean?];

export interface Operation {
  httpMethod: 'GET' | 'POST' | 'PUT' | 'DELETE';
  nickname: string;
  summary: string;
  responseClass: string;
  upgrade?: string;
  websocketProtocol?: string;
  parameters: {
    name: string;
    paramType: ParamType;
    dataType: string;
    required: boolean;
    allowMultiple: boolean;
    description: string;
  }[];
  errorResponses: { code: number; reason: string }[];
}

export interface ApiDeclaration {
  apiVersion: string;
  swaggerVersion: string;
  basePath: string;
  resourcePath: string;
  apis: { path: string; description: string; operations: Operation[] }[];
  models: Record<string, Model>;
}

export interface Model {
  id: string;
  description: string;
  discriminator?: string;
  subTypes?: string[];
  properties: Record<string, { type: string; required: boolean; description: string }>;
}

export const ARI_API_VERSION = '10.0.0';

/** "originateWithId" -> "Originate with id": a summary in our words. */
const summaryOf = (nickname: string): string => {
  const words = nickname
    .replace(/([A-Z])/g, ' $1')
    .replace(/_/g, ' ')
    .toLowerCase();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}.`;
};

const op = (
  httpMethod: Operation['httpMethod'],
  nickname: string,
  responseClass: string,
  params: Param[],
  extra: Pick<Operation, 'upgrade' | 'websocketProtocol'> = {},
): Operation => ({
  httpMethod,
  nickname,
  summary: summaryOf(nickname),
  responseClass,
  ...extra,
  parameters: params.map(([name, paramType, dataType, required = false, allowMultiple = false]) => ({
    name,
    paramType,
    dataType,
    required: paramType === 'path' ? true : required,
    allowMultiple,
    description: name,
  })),
  errorResponses: [],
});

const api = (path: string, operations: Operation[]) => ({ path, description: path, operations });

/** A model from `name: type` pairs; a trailing `?` marks an optional field. */
const model = (id: string, description: string, fields: Record<string, string>, extra: Partial<Model> = {}): Model => ({
  id,
  description,
  ...extra,
  properties: Object.fromEntries(
    Object.entries(fields).map(([name, t]) => [
      name,
      { type: t.replace(/\?$/, ''), required: !t.endsWith('?'), description: name },
    ]),
  ),
});

const channelModels: Record<string, Model> = {
  Channel: model('Channel', 'A channel between Asterisk and an endpoint.', {
    id: 'string',
    protocol_id: 'string',
    name: 'string',
    state: 'string',
    caller: 'CallerID',
    connected: 'CallerID',
    accountcode: 'string',
    dialplan: 'DialplanCEP',
    creationtime: 'Date',
    language: 'string',
    channelvars: 'object?',
  }),
  CallerID: model('CallerID', 'Caller identification.', { name: 'string', number: 'string' }),
  DialplanCEP: model('DialplanCEP', 'Dialplan location (context/extension/priority).', {
    context: 'string',
    exten: 'string',
    priority: 'long',
    app_name: 'string',
    app_data: 'string',
  }),
  Variable: model('Variable', 'The value of a channel variable.', { value: 'string' }),
};

const playbackModel = model('Playback', 'Object representing the playback of media to a channel.', {
  id: 'string',
  media_uri: 'string',
  next_media_uri: 'string?',
  target_uri: 'string',
  language: 'string?',
  state: 'string',
});
const liveRecordingModel = model('LiveRecording', 'A recording that is in progress.', {
  name: 'string',
  format: 'string',
  target_uri: 'string',
  state: 'string',
  duration: 'int?',
  cause: 'string?',
});
const bridgeModel = model('Bridge', 'The merging of media from one or more channels.', {
  id: 'string',
  technology: 'string',
  bridge_type: 'string',
  bridge_class: 'string',
  creator: 'string',
  name: 'string',
  channels: 'List[string]',
  creationtime: 'Date',
});
const storedRecordingModel = model('StoredRecording', 'A past recording that may be played back.', {
  name: 'string',
  format: 'string',
});

const applicationModel = model('Application', 'Details of a Stasis application', {
  name: 'string',
  channel_ids: 'List[string]',
  bridge_ids: 'List[string]',
  endpoint_ids: 'List[string]',
  device_names: 'List[string]',
  events_allowed: 'List[object]',
  events_disallowed: 'List[object]',
});
const endpointModel = model('Endpoint', 'An external device that may offer or accept calls.', {
  technology: 'string',
  resource: 'string',
  state: 'string?',
  channel_ids: 'List[string]',
});
const deviceStateModel = model('DeviceState', 'The state of a device.', { name: 'string', state: 'string' });
const asteriskModels: Record<string, Model> = {
  AsteriskInfo: model('AsteriskInfo', 'What Asterisk says about itself.', {
    build: 'BuildInfo?',
    system: 'SystemInfo?',
    config: 'ConfigInfo?',
    status: 'StatusInfo?',
  }),
  BuildInfo: model('BuildInfo', 'How it was built.', {
    os: 'string',
    kernel: 'string',
    options: 'string',
    machine: 'string',
    date: 'string',
    user: 'string',
  }),
  SystemInfo: model('SystemInfo', 'Version and entity id.', { version: 'string', entity_id: 'string' }),
  ConfigInfo: model('ConfigInfo', 'Its configuration.', {
    name: 'string',
    default_language: 'string',
    max_channels: 'int?',
    max_open_files: 'int?',
    max_load: 'double?',
    setid: 'SetId',
  }),
  SetId: model('SetId', 'Effective user and group.', { user: 'string', group: 'string' }),
  StatusInfo: model('StatusInfo', 'When it started and last reloaded.', {
    startup_time: 'Date',
    last_reload_time: 'Date',
  }),
  AsteriskPing: model('AsteriskPing', 'Asterisk ping information', {
    asterisk_id: 'string',
    ping: 'string',
    timestamp: 'string',
  }),
  Variable: channelModels.Variable as Model,
};

const eventModels: Record<string, Model> = {
  Message: model(
    'Message',
    'Base type for errors and events',
    { type: 'string', asterisk_id: 'string?' },
    { discriminator: 'type', subTypes: ['Event'] },
  ),
  Event: model(
    'Event',
    'Base type for asynchronous events from Asterisk.',
    { application: 'string', timestamp: 'Date' },
    {
      subTypes: [
        'StasisStart',
        'StasisEnd',
        'ChannelStateChange',
        'ChannelDtmfReceived',
        'ChannelHangupRequest',
        'ChannelDestroyed',
        'ChannelVarset',
        'Dial',
        'PlaybackStarted',
        'PlaybackContinuing',
        'PlaybackFinished',
        'RecordingStarted',
        'RecordingFinished',
        'RecordingFailed',
        'ApplicationReplaced',
        'ChannelEnteredBridge',
        'ChannelLeftBridge',
      ],
    },
  ),
  StasisStart: model('StasisStart', 'A channel entered a Stasis application.', {
    args: 'List[string]',
    channel: 'Channel',
  }),
  StasisEnd: model('StasisEnd', 'A channel left a Stasis application.', { channel: 'Channel' }),
  ChannelStateChange: model('ChannelStateChange', 'The state of a channel changed.', { channel: 'Channel' }),
  ChannelDtmfReceived: model('ChannelDtmfReceived', 'DTMF received on a channel.', {
    digit: 'string',
    duration_ms: 'int',
    channel: 'Channel',
  }),
  ChannelHangupRequest: model('ChannelHangupRequest', 'A hangup was requested on the channel.', {
    cause: 'int?',
    soft: 'boolean?',
    channel: 'Channel',
  }),
  ChannelDestroyed: model('ChannelDestroyed', 'A channel was destroyed.', {
    cause: 'int',
    cause_txt: 'string',
    channel: 'Channel',
  }),
  ChannelVarset: model('ChannelVarset', 'A channel variable changed.', {
    variable: 'string',
    value: 'string',
    channel: 'Channel?',
  }),
  Dial: model('Dial', 'Dialing state has changed.', {
    peer: 'Channel',
    dialstring: 'string?',
    forward: 'string?',
    dialstatus: 'string',
  }),
  PlaybackStarted: model('PlaybackStarted', 'A playback started.', { playback: 'Playback' }),
  PlaybackContinuing: model('PlaybackContinuing', 'A playback moved to its next media.', { playback: 'Playback' }),
  PlaybackFinished: model('PlaybackFinished', 'A playback ended.', { playback: 'Playback' }),
  RecordingStarted: model('RecordingStarted', 'A recording started.', { recording: 'LiveRecording' }),
  RecordingFinished: model('RecordingFinished', 'A recording ended.', { recording: 'LiveRecording' }),
  RecordingFailed: model('RecordingFailed', 'A recording failed.', { recording: 'LiveRecording' }),
  ApplicationReplaced: model('ApplicationReplaced', 'Another WebSocket took over the application.', {}),
  ChannelEnteredBridge: model('ChannelEnteredBridge', 'A channel entered a bridge.', {
    bridge: 'Bridge',
    channel: 'Channel?',
  }),
  ChannelUserevent: model('ChannelUserevent', 'A user event, sent with POST /events/user/{eventName}.', {
    eventname: 'string',
    channel: 'Channel?',
    bridge: 'Bridge?',
    endpoint: 'Endpoint?',
    userevent: 'object',
  }),
  DeviceStateChanged: model('DeviceStateChanged', 'A device state the application subscribed to changed.', {
    device_state: 'DeviceState',
  }),
  ChannelLeftBridge: model('ChannelLeftBridge', 'A channel left a bridge.', {
    bridge: 'Bridge',
    channel: 'Channel',
  }),
  Bridge: bridgeModel,
  ...channelModels,
  Playback: playbackModel,
  LiveRecording: liveRecordingModel,
  Endpoint: endpointModel,
  DeviceState: deviceStateModel,
};

const resource = (
  name: string,
  swaggerVersion: string,
  apis: ApiDeclaration['apis'],
  models: Record<string, Model>,
): Omit<ApiDeclaration, 'basePath'> => ({
  apiVersion: ARI_API_VERSION,
  swaggerVersion,
  resourcePath: `/api-docs/${name}.{format}`,
  apis,
  models,
});

/** In the order of Asterisk's own resource listing. */
const declarations: Record<string, Omit<ApiDeclaration, 'basePath'>> = {
  asterisk: resource(
    'asterisk',
    '1.1',
    [
      api('/asterisk/config/dynamic/{configClass}/{objectType}/{id}', [
        op('GET', 'getObject', 'List[ConfigTuple]', [
          ['configClass', 'path', 'string'],
          ['objectType', 'path', 'string'],
          ['id', 'path', 'string'],
        ]),
        op('PUT', 'updateObject', 'List[ConfigTuple]', [
          ['configClass', 'path', 'string'],
          ['objectType', 'path', 'string'],
          ['id', 'path', 'string'],
          ['fields', 'body', 'containers'],
        ]),
        op('DELETE', 'deleteObject', 'void', [
          ['configClass', 'path', 'string'],
          ['objectType', 'path', 'string'],
          ['id', 'path', 'string'],
        ]),
      ]),
      api('/asterisk/info', [op('GET', 'getInfo', 'AsteriskInfo', [['only', 'query', 'string', false, true]])]),
      api('/asterisk/ping', [op('GET', 'ping', 'AsteriskPing', [])]),
      api('/asterisk/modules', [op('GET', 'listModules', 'List[Module]', [])]),
      api('/asterisk/modules/{moduleName}', [
        op('GET', 'getModule', 'Module', [['moduleName', 'path', 'string']]),
        op('POST', 'loadModule', 'void', [['moduleName', 'path', 'string']]),
        op('DELETE', 'unloadModule', 'void', [['moduleName', 'path', 'string']]),
        op('PUT', 'reloadModule', 'void', [['moduleName', 'path', 'string']]),
      ]),
      api('/asterisk/logging', [op('GET', 'listLogChannels', 'List[LogChannel]', [])]),
      api('/asterisk/logging/{logChannelName}', [
        op('POST', 'addLog', 'void', [
          ['logChannelName', 'path', 'string'],
          ['configuration', 'query', 'string', true],
        ]),
        op('DELETE', 'deleteLog', 'void', [['logChannelName', 'path', 'string']]),
      ]),
      api('/asterisk/logging/{logChannelName}/rotate', [
        op('PUT', 'rotateLog', 'void', [['logChannelName', 'path', 'string']]),
      ]),
      api('/asterisk/variable', [
        op('GET', 'getGlobalVar', 'Variable', [['variable', 'query', 'string', true]]),
        op('POST', 'setGlobalVar', 'void', [
          ['variable', 'query', 'string', true],
          ['value', 'query', 'string'],
        ]),
      ]),
    ],
    asteriskModels,
  ),
  endpoints: resource(
    'endpoints',
    '1.1',
    [
      api('/endpoints', [op('GET', 'list', 'List[Endpoint]', [])]),
      api('/endpoints/sendMessage', [
        op('PUT', 'sendMessage', 'void', [
          ['to', 'query', 'string', true],
          ['from', 'query', 'string', true],
          ['body', 'query', 'string'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/endpoints/refer', [
        op('POST', 'refer', 'void', [
          ['to', 'query', 'string', true],
          ['from', 'query', 'string', true],
          ['refer_to', 'query', 'string', true],
          ['to_self', 'query', 'boolean'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/endpoints/{tech}', [op('GET', 'listByTech', 'List[Endpoint]', [['tech', 'path', 'string']])]),
      api('/endpoints/{tech}/{resource}', [
        op('GET', 'get', 'Endpoint', [
          ['tech', 'path', 'string'],
          ['resource', 'path', 'string'],
        ]),
      ]),
      api('/endpoints/{tech}/{resource}/sendMessage', [
        op('PUT', 'sendMessageToEndpoint', 'void', [
          ['tech', 'path', 'string'],
          ['resource', 'path', 'string'],
          ['from', 'query', 'string', true],
          ['body', 'query', 'string'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/endpoints/{tech}/{resource}/refer', [
        op('POST', 'referToEndpoint', 'void', [
          ['tech', 'path', 'string'],
          ['resource', 'path', 'string'],
          ['from', 'query', 'string', true],
          ['refer_to', 'query', 'string', true],
          ['to_self', 'query', 'boolean'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
    ],
    { Endpoint: endpointModel },
  ),
  channels: resource(
    'channels',
    '1.1',
    [
      api('/channels', [
        op('GET', 'list', 'List[Channel]', []),
        op('POST', 'originate', 'Channel', [
          ['endpoint', 'query', 'string', true],
          ['extension', 'query', 'string'],
          ['context', 'query', 'string'],
          ['priority', 'query', 'long'],
          ['label', 'query', 'string'],
          ['app', 'query', 'string'],
          ['appArgs', 'query', 'string'],
          ['callerId', 'query', 'string'],
          ['timeout', 'query', 'int'],
          ['variables', 'body', 'containers'],
          ['channelId', 'query', 'string'],
          ['otherChannelId', 'query', 'string'],
          ['originator', 'query', 'string'],
          ['formats', 'query', 'string'],
        ]),
      ]),
      api('/channels/create', [
        op('POST', 'create', 'Channel', [
          ['endpoint', 'query', 'string', true],
          ['app', 'query', 'string', true],
          ['appArgs', 'query', 'string'],
          ['channelId', 'query', 'string'],
          ['otherChannelId', 'query', 'string'],
          ['originator', 'query', 'string'],
          ['formats', 'query', 'string'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/channels/{channelId}', [
        op('GET', 'get', 'Channel', [['channelId', 'path', 'string']]),
        op('POST', 'originateWithId', 'Channel', [
          ['channelId', 'path', 'string'],
          ['endpoint', 'query', 'string', true],
          ['extension', 'query', 'string'],
          ['context', 'query', 'string'],
          ['priority', 'query', 'long'],
          ['label', 'query', 'string'],
          ['app', 'query', 'string'],
          ['appArgs', 'query', 'string'],
          ['callerId', 'query', 'string'],
          ['timeout', 'query', 'int'],
          ['variables', 'body', 'containers'],
          ['otherChannelId', 'query', 'string'],
          ['originator', 'query', 'string'],
          ['formats', 'query', 'string'],
        ]),
        op('DELETE', 'hangup', 'void', [
          ['channelId', 'path', 'string'],
          ['reason_code', 'query', 'string'],
          ['reason', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/continue', [
        op('POST', 'continueInDialplan', 'void', [
          ['channelId', 'path', 'string'],
          ['context', 'query', 'string'],
          ['extension', 'query', 'string'],
          ['priority', 'query', 'int'],
          ['label', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/move', [
        op('POST', 'move', 'void', [
          ['channelId', 'path', 'string'],
          ['app', 'query', 'string', true],
          ['appArgs', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/redirect', [
        op('POST', 'redirect', 'void', [
          ['channelId', 'path', 'string'],
          ['endpoint', 'query', 'string', true],
        ]),
      ]),
      api('/channels/{channelId}/answer', [op('POST', 'answer', 'void', [['channelId', 'path', 'string']])]),
      api('/channels/{channelId}/ring', [
        op('POST', 'ring', 'void', [['channelId', 'path', 'string']]),
        op('DELETE', 'ringStop', 'void', [['channelId', 'path', 'string']]),
      ]),
      api('/channels/{channelId}/progress', [op('POST', 'progress', 'void', [['channelId', 'path', 'string']])]),
      api('/channels/{channelId}/dtmf', [
        op('POST', 'sendDTMF', 'void', [
          ['channelId', 'path', 'string'],
          ['dtmf', 'query', 'string'],
          ['before', 'query', 'int'],
          ['between', 'query', 'int'],
          ['duration', 'query', 'int'],
          ['after', 'query', 'int'],
        ]),
      ]),
      api('/channels/{channelId}/mute', [
        op('POST', 'mute', 'void', [
          ['channelId', 'path', 'string'],
          ['direction', 'query', 'string'],
        ]),
        op('DELETE', 'unmute', 'void', [
          ['channelId', 'path', 'string'],
          ['direction', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/hold', [
        op('POST', 'hold', 'void', [['channelId', 'path', 'string']]),
        op('DELETE', 'unhold', 'void', [['channelId', 'path', 'string']]),
      ]),
      api('/channels/{channelId}/moh', [
        op('POST', 'startMoh', 'void', [
          ['channelId', 'path', 'string'],
          ['mohClass', 'query', 'string'],
        ]),
        op('DELETE', 'stopMoh', 'void', [['channelId', 'path', 'string']]),
      ]),
      api('/channels/{channelId}/silence', [
        op('POST', 'startSilence', 'void', [['channelId', 'path', 'string']]),
        op('DELETE', 'stopSilence', 'void', [['channelId', 'path', 'string']]),
      ]),
      api('/channels/{channelId}/play', [
        op('POST', 'play', 'Playback', [
          ['channelId', 'path', 'string'],
          ['media', 'query', 'string', true, true],
          ['lang', 'query', 'string'],
          ['offsetms', 'query', 'int'],
          ['skipms', 'query', 'int'],
          ['playbackId', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/play/{playbackId}', [
        op('POST', 'playWithId', 'Playback', [
          ['channelId', 'path', 'string'],
          ['playbackId', 'path', 'string'],
          ['media', 'query', 'string', true, true],
          ['lang', 'query', 'string'],
          ['offsetms', 'query', 'int'],
          ['skipms', 'query', 'int'],
        ]),
      ]),
      api('/channels/{channelId}/record', [
        op('POST', 'record', 'LiveRecording', [
          ['channelId', 'path', 'string'],
          ['name', 'query', 'string', true],
          ['format', 'query', 'string', true],
          ['maxDurationSeconds', 'query', 'int'],
          ['maxSilenceSeconds', 'query', 'int'],
          ['ifExists', 'query', 'string'],
          ['beep', 'query', 'boolean'],
          ['terminateOn', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/variable', [
        op('GET', 'getChannelVar', 'Variable', [
          ['channelId', 'path', 'string'],
          ['variable', 'query', 'string', true],
        ]),
        op('POST', 'setChannelVar', 'void', [
          ['channelId', 'path', 'string'],
          ['variable', 'query', 'string', true],
          ['value', 'query', 'string'],
          ['report_events', 'query', 'boolean'],
        ]),
      ]),
      api('/channels/{channelId}/variables', [
        op('GET', 'getChannelVars', 'Variables', [
          ['channelId', 'path', 'string'],
          ['variables', 'query', 'string', true, true],
        ]),
        op('POST', 'setChannelVars', 'void', [
          ['channelId', 'path', 'string'],
          ['variables', 'body', 'containers', true],
        ]),
      ]),
      api('/channels/{channelId}/snoop', [
        op('POST', 'snoopChannel', 'Channel', [
          ['channelId', 'path', 'string'],
          ['spy', 'query', 'string'],
          ['whisper', 'query', 'string'],
          ['app', 'query', 'string', true],
          ['appArgs', 'query', 'string'],
          ['snoopId', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/snoop/{snoopId}', [
        op('POST', 'snoopChannelWithId', 'Channel', [
          ['channelId', 'path', 'string'],
          ['snoopId', 'path', 'string'],
          ['spy', 'query', 'string'],
          ['whisper', 'query', 'string'],
          ['app', 'query', 'string', true],
          ['appArgs', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/dial', [
        op('POST', 'dial', 'void', [
          ['channelId', 'path', 'string'],
          ['caller', 'query', 'string'],
          ['timeout', 'query', 'int'],
        ]),
      ]),
      api('/channels/{channelId}/rtp_statistics', [
        op('GET', 'rtpstatistics', 'RTPstat', [['channelId', 'path', 'string']]),
      ]),
      api('/channels/externalMedia', [
        op('POST', 'externalMedia', 'Channel', [
          ['channelId', 'query', 'string'],
          ['app', 'query', 'string', true],
          ['variables', 'body', 'containers'],
          ['external_host', 'query', 'string'],
          ['encapsulation', 'query', 'string'],
          ['transport', 'query', 'string'],
          ['connection_type', 'query', 'string'],
          ['format', 'query', 'string', true],
          ['direction', 'query', 'string'],
          ['data', 'query', 'string'],
          ['transport_data', 'query', 'string'],
        ]),
      ]),
      api('/channels/{channelId}/transfer_progress', [
        op('POST', 'transfer_progress', 'void', [
          ['channelId', 'path', 'string'],
          ['states', 'query', 'string', true],
        ]),
      ]),
    ],
    { ...channelModels, Playback: playbackModel, LiveRecording: liveRecordingModel },
  ),
  bridges: resource(
    'bridges',
    '1.1',
    [
      api('/bridges', [
        op('GET', 'list', 'List[Bridge]', []),
        op('POST', 'create', 'Bridge', [
          ['type', 'query', 'string'],
          ['bridgeId', 'query', 'string'],
          ['name', 'query', 'string'],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/bridges/{bridgeId}', [
        op('POST', 'createWithId', 'Bridge', [
          ['type', 'query', 'string'],
          ['bridgeId', 'path', 'string'],
          ['name', 'query', 'string'],
          ['variables', 'body', 'containers'],
        ]),
        op('GET', 'get', 'Bridge', [['bridgeId', 'path', 'string']]),
        op('DELETE', 'destroy', 'void', [['bridgeId', 'path', 'string']]),
      ]),
      api('/bridges/{bridgeId}/variable', [
        op('GET', 'getBridgeVar', 'Variable', [
          ['bridgeId', 'path', 'string'],
          ['variable', 'query', 'string', true],
        ]),
        op('POST', 'setBridgeVar', 'void', [
          ['bridgeId', 'path', 'string'],
          ['variable', 'query', 'string', true],
          ['value', 'query', 'string'],
          ['report_events', 'query', 'boolean'],
        ]),
      ]),
      api('/bridges/{bridgeId}/variables', [
        op('GET', 'getBridgeVars', 'Variables', [
          ['bridgeId', 'path', 'string'],
          ['variables', 'query', 'string', true, true],
        ]),
        op('POST', 'setBridgeVars', 'void', [
          ['bridgeId', 'path', 'string'],
          ['variables', 'body', 'containers', true],
        ]),
      ]),
      api('/bridges/{bridgeId}/addChannel', [
        op('POST', 'addChannel', 'void', [
          ['bridgeId', 'path', 'string'],
          ['channel', 'query', 'string', true, true],
          ['role', 'query', 'string'],
          ['absorbDTMF', 'query', 'boolean'],
          ['mute', 'query', 'boolean'],
          ['inhibitConnectedLineUpdates', 'query', 'boolean'],
        ]),
      ]),
      api('/bridges/{bridgeId}/removeChannel', [
        op('POST', 'removeChannel', 'void', [
          ['bridgeId', 'path', 'string'],
          ['channel', 'query', 'string', true, true],
        ]),
      ]),
      api('/bridges/{bridgeId}/videoSource/{channelId}', [
        op('POST', 'setVideoSource', 'void', [
          ['bridgeId', 'path', 'string'],
          ['channelId', 'path', 'string'],
        ]),
      ]),
      api('/bridges/{bridgeId}/videoSource', [
        op('DELETE', 'clearVideoSource', 'void', [['bridgeId', 'path', 'string']]),
      ]),
      api('/bridges/{bridgeId}/moh', [
        op('POST', 'startMoh', 'void', [
          ['bridgeId', 'path', 'string'],
          ['mohClass', 'query', 'string'],
        ]),
        op('DELETE', 'stopMoh', 'void', [['bridgeId', 'path', 'string']]),
      ]),
      api('/bridges/{bridgeId}/play', [
        op('POST', 'play', 'Playback', [
          ['bridgeId', 'path', 'string'],
          ['media', 'query', 'string', true, true],
          ['announcer_format', 'query', 'string'],
          ['lang', 'query', 'string'],
          ['offsetms', 'query', 'int'],
          ['skipms', 'query', 'int'],
          ['playbackId', 'query', 'string'],
        ]),
      ]),
      api('/bridges/{bridgeId}/play/{playbackId}', [
        op('POST', 'playWithId', 'Playback', [
          ['bridgeId', 'path', 'string'],
          ['playbackId', 'path', 'string'],
          ['media', 'query', 'string', true, true],
          ['announcer_format', 'query', 'string'],
          ['lang', 'query', 'string'],
          ['offsetms', 'query', 'int'],
          ['skipms', 'query', 'int'],
        ]),
      ]),
      api('/bridges/{bridgeId}/record', [
        op('POST', 'record', 'LiveRecording', [
          ['bridgeId', 'path', 'string'],
          ['name', 'query', 'string', true],
          ['format', 'query', 'string', true],
          ['recorder_format', 'query', 'string'],
          ['maxDurationSeconds', 'query', 'int'],
          ['maxSilenceSeconds', 'query', 'int'],
          ['ifExists', 'query', 'string'],
          ['beep', 'query', 'boolean'],
          ['terminateOn', 'query', 'string'],
        ]),
      ]),
    ],
    { Bridge: bridgeModel, Playback: playbackModel, LiveRecording: liveRecordingModel },
  ),
  recordings: resource(
    'recordings',
    '1.1',
    [
      api('/recordings/stored', [op('GET', 'listStored', 'List[StoredRecording]', [])]),
      api('/recordings/stored/{recordingName}', [
        op('GET', 'getStored', 'StoredRecording', [['recordingName', 'path', 'string']]),
        op('DELETE', 'deleteStored', 'void', [['recordingName', 'path', 'string']]),
      ]),
      api('/recordings/stored/{recordingName}/file', [
        op('GET', 'getStoredFile', 'binary', [['recordingName', 'path', 'string']]),
      ]),
      api('/recordings/stored/{recordingName}/copy', [
        op('POST', 'copyStored', 'StoredRecording', [
          ['recordingName', 'path', 'string'],
          ['destinationRecordingName', 'query', 'string', true],
        ]),
      ]),
      api('/recordings/live/{recordingName}', [
        op('GET', 'getLive', 'LiveRecording', [['recordingName', 'path', 'string']]),
        op('DELETE', 'cancel', 'void', [['recordingName', 'path', 'string']]),
      ]),
      api('/recordings/live/{recordingName}/stop', [op('POST', 'stop', 'void', [['recordingName', 'path', 'string']])]),
      api('/recordings/live/{recordingName}/pause', [
        op('POST', 'pause', 'void', [['recordingName', 'path', 'string']]),
        op('DELETE', 'unpause', 'void', [['recordingName', 'path', 'string']]),
      ]),
      api('/recordings/live/{recordingName}/mute', [
        op('POST', 'mute', 'void', [['recordingName', 'path', 'string']]),
        op('DELETE', 'unmute', 'void', [['recordingName', 'path', 'string']]),
      ]),
    ],
    { LiveRecording: liveRecordingModel, StoredRecording: storedRecordingModel },
  ),
  sounds: resource(
    'sounds',
    '1.1',
    [
      api('/sounds', [
        op('GET', 'list', 'List[Sound]', [
          ['lang', 'query', 'string'],
          ['format', 'query', 'string'],
        ]),
      ]),
      api('/sounds/{soundId}', [op('GET', 'get', 'Sound', [['soundId', 'path', 'string']])]),
    ],
    {
      Sound: model('Sound', 'A media file that may be played back.', {
        id: 'string',
        text: 'string?',
        formats: 'List[FormatLangPair]',
      }),
      FormatLangPair: model('FormatLangPair', 'A language and format a sound is available in.', {
        language: 'string',
        format: 'string',
      }),
    },
  ),
  playbacks: resource(
    'playbacks',
    '1.1',
    [
      api('/playbacks/{playbackId}', [
        op('GET', 'get', 'Playback', [['playbackId', 'path', 'string']]),
        op('DELETE', 'stop', 'void', [['playbackId', 'path', 'string']]),
      ]),
      api('/playbacks/{playbackId}/control', [
        op('POST', 'control', 'void', [
          ['playbackId', 'path', 'string'],
          ['operation', 'query', 'string', true],
        ]),
      ]),
    ],
    { Playback: playbackModel },
  ),
  deviceStates: resource(
    'deviceStates',
    '1.1',
    [
      api('/deviceStates', [op('GET', 'list', 'List[DeviceState]', [])]),
      api('/deviceStates/{deviceName}', [
        op('GET', 'get', 'DeviceState', [['deviceName', 'path', 'string']]),
        op('PUT', 'update', 'void', [
          ['deviceName', 'path', 'string'],
          ['deviceState', 'query', 'string', true],
        ]),
        op('DELETE', 'delete', 'void', [['deviceName', 'path', 'string']]),
      ]),
    ],
    { DeviceState: deviceStateModel },
  ),
  mailboxes: resource(
    'mailboxes',
    '1.1',
    [
      api('/mailboxes', [op('GET', 'list', 'List[Mailbox]', [])]),
      api('/mailboxes/{mailboxName}', [
        op('GET', 'get', 'Mailbox', [['mailboxName', 'path', 'string']]),
        op('PUT', 'update', 'void', [
          ['mailboxName', 'path', 'string'],
          ['oldMessages', 'query', 'int', true],
          ['newMessages', 'query', 'int', true],
        ]),
        op('DELETE', 'delete', 'void', [['mailboxName', 'path', 'string']]),
      ]),
    ],
    {
      Mailbox: model('Mailbox', 'A mailbox and its message counts.', {
        name: 'string',
        old_messages: 'int',
        new_messages: 'int',
      }),
    },
  ),
  events: resource(
    'events',
    '1.2',
    [
      api('/events', [
        op(
          'GET',
          'eventWebsocket',
          'Message',
          [
            ['app', 'query', 'string', true, true],
            ['subscribeAll', 'query', 'boolean'],
          ],
          { upgrade: 'websocket', websocketProtocol: 'ari' },
        ),
      ]),
      api('/events/user/{eventName}', [
        op('POST', 'userEvent', 'void', [
          ['eventName', 'path', 'string'],
          ['application', 'query', 'string', true],
          ['source', 'query', 'string', false, true],
          ['variables', 'body', 'containers'],
        ]),
      ]),
      api('/events/claim', [
        op('POST', 'claimChannel', 'void', [
          ['channelId', 'query', 'string', true],
          ['application', 'query', 'string', true],
        ]),
      ]),
    ],
    eventModels,
  ),
  applications: resource(
    'applications',
    '1.1',
    [
      api('/applications', [op('GET', 'list', 'List[Application]', [])]),
      api('/applications/{applicationName}', [
        op('GET', 'get', 'Application', [['applicationName', 'path', 'string']]),
      ]),
      api('/applications/{applicationName}/subscription', [
        op('POST', 'subscribe', 'Application', [
          ['applicationName', 'path', 'string'],
          ['eventSource', 'query', 'string', true, true],
        ]),
        op('DELETE', 'unsubscribe', 'Application', [
          ['applicationName', 'path', 'string'],
          ['eventSource', 'query', 'string', true, true],
        ]),
      ]),
      api('/applications/{applicationName}/eventFilter', [
        op('PUT', 'filter', 'Application', [
          ['applicationName', 'path', 'string'],
          ['filter', 'body', 'object'],
        ]),
      ]),
    ],
    { Application: applicationModel },
  ),
};

export const DECLARED_RESOURCES = Object.keys(declarations);

/** The resource listing (`/ari/api-docs/resources.json`), with basePath for the host the client used. */
export function resourceListing(basePath: string): Record<string, unknown> {
  return {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    basePath,
    apis: DECLARED_RESOURCES.map((name) => ({ path: `/api-docs/${name}.{format}`, description: `${name} resources` })),
  };
}

export function apiDeclaration(name: string, basePath: string): ApiDeclaration | undefined {
  const d = declarations[name];
  return d ? { ...d, basePath } : undefined;
}
