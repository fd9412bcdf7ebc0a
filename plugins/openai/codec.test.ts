import { fileURLToPath } from 'node:url';
import { runCodecFixtures } from '../../test/codec-fixtures.ts';
import { openaiCodec } from './codec.ts';

runCodecFixtures(openaiCodec, fileURLToPath(new URL('./fixtures', import.meta.url)));
