/**
 * The simulator's own Swagger 1.1 declarations of the part of ARI it serves
 * (what ari-client reads at connect time to build its operations). Written
 * here, not copied: test/sim/ari-declarations.test.ts checks every path,
 * method, parameter, model field and event field below against the
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

const op = (
  httpMethod: Operation['httpMethod'],
  nickname: string,
  responseClass: string,
  summary: string,
  params: Param[],
  errors: [number, string][] = [],
): Operation => ({
  httpMethod,
  nickname,
  summary,
  responseClass,
  parameters: params.map(([name, paramType, dataType, required = false, allowMultiple = false]) => ({
    name,
    paramType,
    dataType,
    required: paramType === 'path' ? true : required,
    allowMultiple,
    description: name,
  })),
  errorResponses: errors.map(([code, reason]) => ({ code, reason })),
});

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

const CHANNEL_ID: Param = ['channelId', 'path', 'string'];
const NOT_FOUND: [number, string] = [404, 'Channel not found'];
const NOT_IN_STASIS: [number, string] = [409, 'Channel not in a Stasis application'];
const ORIGINATE_PARAMS: Param[] = [
  ['endpoint', 'query', 'string', true],
  ['app', 'query', 'string'],
  ['appArgs', 'query', 'string'],
  ['callerId', 'query', 'string'],
  ['timeout', 'query', 'int'],
  ['variables', 'body', 'containers'],
  ['otherChannelId', 'query', 'string'],
];

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

const declarations: Record<string, Omit<ApiDeclaration, 'basePath'>> = {
  channels: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/channels.{format}',
    apis: [
      {
        path: '/channels',
        description: 'Active channels',
        operations: [
          op('GET', 'list', 'List[Channel]', 'List all active channels.', []),
          op('POST', 'originate', 'Channel', 'Create a new channel (originate).', [
            ...ORIGINATE_PARAMS,
            ['channelId', 'query', 'string'],
          ]),
        ],
      },
      {
        path: '/channels/{channelId}',
        description: 'Active channel',
        operations: [
          op('GET', 'get', 'Channel', 'Channel details.', [CHANNEL_ID], [NOT_FOUND]),
          op('POST', 'originateWithId', 'Channel', 'Create a new channel with an id (originate).', [
            CHANNEL_ID,
            ...ORIGINATE_PARAMS,
          ]),
          op(
            'DELETE',
            'hangup',
            'void',
            'Delete (i.e. hangup) a channel.',
            [CHANNEL_ID, ['reason_code', 'query', 'string'], ['reason', 'query', 'string']],
            [[400, 'Invalid reason for hangup provided'], NOT_FOUND],
          ),
        ],
      },
      {
        path: '/channels/{channelId}/answer',
        description: 'Answer a channel',
        operations: [op('POST', 'answer', 'void', 'Answer a channel.', [CHANNEL_ID], [NOT_FOUND, NOT_IN_STASIS])],
      },
      {
        path: '/channels/{channelId}/ring',
        description: 'Send a ringing indication to a channel',
        operations: [op('POST', 'ring', 'void', 'Indicate ringing to a channel.', [CHANNEL_ID], [NOT_FOUND])],
      },
      {
        path: '/channels/{channelId}/play',
        description: 'Play media to a channel',
        operations: [
          op(
            'POST',
            'play',
            'Playback',
            'Start playback of media.',
            [
              CHANNEL_ID,
              ['media', 'query', 'string', true, true],
              ['lang', 'query', 'string'],
              ['playbackId', 'query', 'string'],
            ],
            [NOT_FOUND, NOT_IN_STASIS],
          ),
        ],
      },
      {
        path: '/channels/{channelId}/play/{playbackId}',
        description: 'Play media to a channel',
        operations: [
          op(
            'POST',
            'playWithId',
            'Playback',
            'Start playback of media and specify the playbackId.',
            [
              CHANNEL_ID,
              ['playbackId', 'path', 'string'],
              ['media', 'query', 'string', true, true],
              ['lang', 'query', 'string'],
            ],
            [NOT_FOUND, NOT_IN_STASIS],
          ),
        ],
      },
      {
        path: '/channels/{channelId}/record',
        description: 'Record audio from a channel',
        operations: [
          op(
            'POST',
            'record',
            'LiveRecording',
            'Start a recording.',
            [
              CHANNEL_ID,
              ['name', 'query', 'string', true],
              ['format', 'query', 'string', true],
              ['maxDurationSeconds', 'query', 'int'],
              ['maxSilenceSeconds', 'query', 'int'],
              ['ifExists', 'query', 'string'],
              ['beep', 'query', 'boolean'],
              ['terminateOn', 'query', 'string'],
            ],
            [
              [400, 'Invalid parameters'],
              NOT_FOUND,
              [409, 'Channel is not in a Stasis application, or a recording of that name exists'],
              [422, 'The format specified is unknown on this system'],
            ],
          ),
        ],
      },
      {
        path: '/channels/{channelId}/variable',
        description: 'Variables on a channel',
        operations: [
          op(
            'GET',
            'getChannelVar',
            'Variable',
            'Get the value of a channel variable.',
            [CHANNEL_ID, ['variable', 'query', 'string', true]],
            [
              [400, 'Missing variable parameter.'],
              [404, 'Channel or variable not found'],
            ],
          ),
          op(
            'POST',
            'setChannelVar',
            'void',
            'Set the value of a channel variable.',
            [CHANNEL_ID, ['variable', 'query', 'string', true], ['value', 'query', 'string']],
            [[400, 'Missing variable parameter.'], NOT_FOUND],
          ),
        ],
      },
    ],
    models: channelModels,
  },
  playbacks: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/playbacks.{format}',
    apis: [
      {
        path: '/playbacks/{playbackId}',
        description: 'Control object for a playback operation.',
        operations: [
          op(
            'GET',
            'get',
            'Playback',
            "Get a playback's details.",
            [['playbackId', 'path', 'string']],
            [[404, 'The playback cannot be found']],
          ),
          op(
            'DELETE',
            'stop',
            'void',
            'Stop a playback.',
            [['playbackId', 'path', 'string']],
            [[404, 'The playback cannot be found']],
          ),
        ],
      },
    ],
    models: { Playback: playbackModel },
  },
  recordings: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/recordings.{format}',
    apis: [
      {
        path: '/recordings/stored',
        description: 'Recordings',
        operations: [op('GET', 'listStored', 'List[StoredRecording]', 'List recordings that are complete.', [])],
      },
      {
        path: '/recordings/stored/{recordingName}',
        description: 'Individual recording',
        operations: [
          op('GET', 'getStored', 'StoredRecording', "Get a stored recording's details.", [
            ['recordingName', 'path', 'string'],
          ]),
          op(
            'DELETE',
            'deleteStored',
            'void',
            'Delete a stored recording.',
            [['recordingName', 'path', 'string']],
            [[404, 'Recording not found']],
          ),
        ],
      },
      {
        path: '/recordings/stored/{recordingName}/file',
        description: 'The actual file associated with the stored recording',
        operations: [
          op('GET', 'getStoredFile', 'binary', 'Get the file associated with the stored recording.', [
            ['recordingName', 'path', 'string'],
          ]),
        ],
      },
      {
        path: '/recordings/live/{recordingName}',
        description: 'A recording that is in progress',
        operations: [
          op('GET', 'getLive', 'LiveRecording', 'List live recordings.', [['recordingName', 'path', 'string']]),
          op('DELETE', 'cancel', 'void', 'Stop a live recording and discard it.', [
            ['recordingName', 'path', 'string'],
          ]),
        ],
      },
      {
        path: '/recordings/live/{recordingName}/stop',
        description: 'Stop a live recording',
        operations: [
          op('POST', 'stop', 'void', 'Stop a live recording and store it.', [['recordingName', 'path', 'string']]),
        ],
      },
    ],
    models: { LiveRecording: liveRecordingModel, StoredRecording: storedRecordingModel },
  },
  bridges: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/bridges.{format}',
    apis: [
      {
        path: '/bridges',
        description: 'Active bridges',
        operations: [
          op('GET', 'list', 'List[Bridge]', 'List all active bridges.', []),
          op(
            'POST',
            'create',
            'Bridge',
            'Create a new bridge.',
            [
              ['type', 'query', 'string'],
              ['bridgeId', 'query', 'string'],
              ['name', 'query', 'string'],
            ],
            [[409, 'Bridge with the same bridgeId already exists']],
          ),
        ],
      },
      {
        path: '/bridges/{bridgeId}',
        description: 'Individual bridge',
        operations: [
          op(
            'GET',
            'get',
            'Bridge',
            'Get bridge details.',
            [['bridgeId', 'path', 'string']],
            [[404, 'Bridge not found']],
          ),
          op(
            'DELETE',
            'destroy',
            'void',
            'Shut down a bridge.',
            [['bridgeId', 'path', 'string']],
            [[404, 'Bridge not found']],
          ),
        ],
      },
      {
        path: '/bridges/{bridgeId}/addChannel',
        description: 'Add a channel to a bridge',
        operations: [
          op(
            'POST',
            'addChannel',
            'void',
            'Add a channel to a bridge.',
            [
              ['bridgeId', 'path', 'string'],
              ['channel', 'query', 'string', true, true],
            ],
            [
              [400, 'Channel not found'],
              [404, 'Bridge not found'],
              [422, 'Channel not in Stasis application'],
            ],
          ),
        ],
      },
      {
        path: '/bridges/{bridgeId}/removeChannel',
        description: 'Remove a channel from a bridge',
        operations: [
          op(
            'POST',
            'removeChannel',
            'void',
            'Remove a channel from a bridge.',
            [
              ['bridgeId', 'path', 'string'],
              ['channel', 'query', 'string', true, true],
            ],
            [
              [400, 'Channel not found'],
              [404, 'Bridge not found'],
              [422, 'Channel not in this bridge'],
            ],
          ),
        ],
      },
    ],
    models: { Bridge: bridgeModel },
  },
  applications: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/applications.{format}',
    apis: [
      {
        path: '/applications',
        description: 'Stasis applications',
        operations: [op('GET', 'list', 'List[Application]', 'List all applications.', [])],
      },
      {
        path: '/applications/{applicationName}',
        description: 'Stasis application',
        operations: [
          op(
            'GET',
            'get',
            'Application',
            'Get details of an application.',
            [['applicationName', 'path', 'string']],
            [[404, 'Application does not exist.']],
          ),
        ],
      },
    ],
    models: {
      Application: model('Application', 'Details of a Stasis application', {
        name: 'string',
        channel_ids: 'List[string]',
        bridge_ids: 'List[string]',
        endpoint_ids: 'List[string]',
        device_names: 'List[string]',
      }),
    },
  },
  asterisk: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.1',
    resourcePath: '/api-docs/asterisk.{format}',
    apis: [
      {
        path: '/asterisk/ping',
        description: 'Asterisk ping',
        operations: [op('GET', 'ping', 'AsteriskPing', 'Response pong message.', [])],
      },
    ],
    models: {
      AsteriskPing: model('AsteriskPing', 'Asterisk ping information', {
        asterisk_id: 'string',
        ping: 'string',
        timestamp: 'string',
      }),
    },
  },
  events: {
    apiVersion: ARI_API_VERSION,
    swaggerVersion: '1.2',
    resourcePath: '/api-docs/events.{format}',
    apis: [
      {
        path: '/events',
        description: 'Events from Asterisk to applications',
        operations: [
          {
            ...op('GET', 'eventWebsocket', 'Message', 'WebSocket connection for events.', [
              ['app', 'query', 'string', true, true],
              ['subscribeAll', 'query', 'boolean'],
            ]),
            upgrade: 'websocket',
            websocketProtocol: 'ari',
          },
        ],
      },
    ],
    models: {
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
      ChannelLeftBridge: model('ChannelLeftBridge', 'A channel left a bridge.', {
        bridge: 'Bridge',
        channel: 'Channel',
      }),
      Bridge: bridgeModel,
      ...channelModels,
      Playback: playbackModel,
      LiveRecording: liveRecordingModel,
    },
  },
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
