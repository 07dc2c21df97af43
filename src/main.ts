import 'reflect-metadata';
import { bootstrap } from './bootstrap.js';

void bootstrap();
